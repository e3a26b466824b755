# berth shim of azureml.contrib.services.aml_request: the rawhttp decorator and AMLRequest (berth's Request).
from berth._http import Request as AMLRequest, rawhttp

__all__ = ["AMLRequest", "rawhttp"]
