# berth shim package `azureml.contrib` (holds `services`); extend_path keeps a real SDK's contrib packages reachable.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
