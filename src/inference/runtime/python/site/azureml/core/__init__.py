# berth shim package `azureml.core`: offers Model (for Model.get_model_path) so `from azureml.core import Model` works.
from .model import Model

__all__ = ["Model"]
