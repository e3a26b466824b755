# berth's stand-in for the `azureml` namespace: only the pieces entry scripts import (Model, rawhttp, AMLRequest, AMLResponse).
# extend_path lets a real azureml SDK installed elsewhere on sys.path contribute its own sub-packages.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
