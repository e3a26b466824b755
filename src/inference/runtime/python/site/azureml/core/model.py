# berth shim of azureml.core.model.Model: only the static get_model_path that entry scripts call in init().
from berth._models import ModelNotFoundError, get_model_path as _get_model_path

__all__ = ["Model", "ModelNotFoundError"]


class Model(object):
    """Stand-in for the classic SDK's Model: get_model_path works against the mounted models; nothing else does."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "berth provides only Model.get_model_path(name, version=None); constructing a Model needs a "
            "workspace and the azureml-core package. Read the model from Model.get_model_path() instead."
        )

    @staticmethod
    def get_model_path(model_name, version=None, _workspace=None):
        """Path of the mounted model `model_name` (latest version unless given); `_workspace` is ignored."""
        return _get_model_path(model_name, version)
