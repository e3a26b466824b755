# Model-path resolution for entry scripts: berth.get_model_path and the azureml Model.get_model_path shim.
import os
import re

__all__ = ["BerthError", "ModelNotFoundError", "get_model_path", "mounted_models"]

_VERSION = re.compile(r"^[0-9]+$")
_LIST_LIMIT = 50  # enough to show what is there without flooding the init() error


class BerthError(Exception):
    """Base class of errors raised by berth's helper module."""

    __module__ = "berth"  # tracebacks show berth.ModelNotFoundError, the public name


class ModelNotFoundError(BerthError, FileNotFoundError):
    """get_model_path found no model of that name (and version); the message lists what is mounted."""

    __module__ = "berth"

    def __init__(self, message, model=None, version=None, searched=(), mounted=()):
        # One argument only, so str() is the message (OSError with two arguments would prefix "[Errno ...]").
        super(ModelNotFoundError, self).__init__(message)
        self.model = model
        self.version = version
        self.searched = list(searched)
        self.mounted = list(mounted)


def _model_dir():
    d = os.environ.get("AZUREML_MODEL_DIR") or os.environ.get("BERTH_MODEL_DIR")
    return os.path.abspath(d) if d else None


def _versions(folder):
    """Numeric version sub-folders of `folder`, as ints, sorted."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(int(n) for n in names if _VERSION.match(n) and os.path.isdir(os.path.join(folder, n)))


def _pick(version_dir):
    # Classic Model.get_model_path returns the single file/folder inside the version folder. It refuses a
    # folder with several entries; berth returns the folder itself then. Hidden entries (.DS_Store) don't count.
    try:
        entries = [e for e in os.listdir(version_dir) if not e.startswith(".")]
    except OSError:
        return version_dir
    if len(entries) == 1:
        return os.path.join(version_dir, entries[0])
    return version_dir


def _single_layout(model_dir):
    """(name, version) when model_dir is itself <...>/<name>/<version> (the one-model mount), else None."""
    base = os.path.basename(model_dir)
    parent = os.path.basename(os.path.dirname(model_dir))
    if _VERSION.match(base) and parent:
        return parent, int(base)
    return None


def mounted_models(model_dir=None):
    """What is mounted under AZUREML_MODEL_DIR, as "name:version" (or "name" / "name/" for plain entries)."""
    model_dir = model_dir or _model_dir()
    if not model_dir or not os.path.isdir(model_dir):
        return []
    single = _single_layout(model_dir)
    if single is not None:
        return ["%s:%d" % single]
    out = []
    try:
        names = sorted(os.listdir(model_dir))
    except OSError:
        return []
    for n in names:
        if n.startswith("."):
            continue
        p = os.path.join(model_dir, n)
        if os.path.isdir(p):
            vs = _versions(p)
            if vs:
                out.extend("%s:%d" % (n, v) for v in vs)
            else:
                out.append(n + "/")
        else:
            out.append(n)
    return out


def _as_version(version):
    if version is None:
        return None
    if isinstance(version, bool) or not (isinstance(version, int) or (isinstance(version, str) and _VERSION.match(version))):
        raise ValueError("model version must be a whole number (1, 2, ...), got %r" % (version,))
    return int(version)


def _in_root(root, name, version, searched):
    """Look for <root>/<name>[/<version>]; return a path or None."""
    folder = os.path.join(root, name)
    if version is not None:
        vdir = os.path.join(folder, str(version))
        searched.append(vdir)
        if os.path.isdir(vdir):
            return _pick(vdir)
        return None
    searched.append(folder)
    vs = _versions(folder)
    if vs:
        return _pick(os.path.join(folder, str(vs[-1])))
    if os.path.exists(folder):
        return folder  # an arbitrary --model-dir: <dir>/<name> is the model, whatever it holds
    return None


def get_model_path(name, version=None):
    """Absolute path of a mounted model (latest version unless `version` is given).

    Looks, in order, at: AZUREML_MODEL_DIR when it is the one-model mount <...>/<name>/<version>;
    AZUREML_MODEL_DIR/<name>/<version> (several models); AZUREML_MODEL_DIR/<name> (any folder given as
    --model-dir); ./azureml-models/<name>/<version> and ./<name> (the classic fallbacks, from the working
    directory). The version folder's single entry is returned when it holds exactly one; else the folder.
    Raises ModelNotFoundError (a FileNotFoundError) listing what is mounted when nothing matches.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("model name must be a non-empty string, got %r" % (name,))
    version = _as_version(version)
    model_dir = _model_dir()
    searched = []

    if model_dir and os.path.isdir(model_dir):
        single = _single_layout(model_dir)
        if single is not None and single[0] == name:
            searched.append(model_dir)
            if version is None or version == single[1]:
                return _pick(model_dir)
        found = _in_root(model_dir, name, version, searched)
        if found is not None:
            return os.path.abspath(found)

    cwd = os.getcwd()
    found = _in_root(os.path.join(cwd, "azureml-models"), name, version, searched)
    if found is not None:
        return os.path.abspath(found)
    if version is None:
        local = os.path.join(cwd, name)
        searched.append(local)
        if os.path.exists(local):
            return local

    raise _not_found(name, version, model_dir, searched)


def _not_found(name, version, model_dir, searched):
    wanted = "model %r %s" % (name, "version %d" % version if version is not None else "(latest version)")
    if not model_dir:
        where = "AZUREML_MODEL_DIR is not set, so no model is mounted"
        mounted = []
    elif not os.path.isdir(model_dir):
        where = "AZUREML_MODEL_DIR=%s does not exist" % model_dir
        mounted = []
    else:
        mounted = mounted_models(model_dir)
        if not mounted:
            where = "AZUREML_MODEL_DIR=%s: nothing is mounted there" % model_dir
        else:
            shown = mounted[:_LIST_LIMIT]
            more = " (and %d more)" % (len(mounted) - len(shown)) if len(mounted) > len(shown) else ""
            where = "AZUREML_MODEL_DIR=%s holds: %s%s" % (model_dir, ", ".join(shown), more)
    msg = "%s not found. %s. Looked for: %s" % (wanted, where, ", ".join(searched) or "(nothing)")
    return ModelNotFoundError(msg, model=name, version=version, searched=searched, mounted=mounted)
