# berth's helper module for entry scripts: get_model_path, rawhttp, Request, Response (standard library only).
from ._http import Headers, Request, Response, rawhttp
from ._models import BerthError, ModelNotFoundError, get_model_path, mounted_models

__all__ = [
    "BerthError",
    "Headers",
    "ModelNotFoundError",
    "Request",
    "Response",
    "get_model_path",
    "mounted_models",
    "rawhttp",
]
