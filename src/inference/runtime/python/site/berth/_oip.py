# Open Inference Protocol for Python entry scripts: turns berth's decoded infer request into arrays for infer(request), and what it returns into outputs.
import base64
import json

from ._http import json_default
from ._tracebacks import safe_str

# numpy is used when the worker's Python has it, else inputs are nested lists; imported on the first infer request only,
# so a script that never serves the protocol never pays for the import.
_numpy = []

_NUMPY_DTYPES = {
    "BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
    "FP16": "float16", "FP32": "float32", "FP64": "float64",
}
# numpy dtype kind and item size → datatype; strings and objects are BYTES.
_DATATYPES = {
    ("b", 1): "BOOL", ("u", 1): "UINT8", ("u", 2): "UINT16", ("u", 4): "UINT32", ("u", 8): "UINT64",
    ("i", 1): "INT8", ("i", 2): "INT16", ("i", 4): "INT32", ("i", 8): "INT64",
    ("f", 2): "FP16", ("f", 4): "FP32", ("f", 8): "FP64",
}

_encode = json.JSONEncoder(default=json_default, allow_nan=False).encode


def numpy_module():
    if not _numpy:
        try:
            import numpy
        except ImportError:
            numpy = None
        _numpy.append(numpy)
    return _numpy[0]


def signature_of(mod):
    """(declaration as JSON-ready data, None) or (None, why it cannot be sent) for the module's berth_signature."""
    sig = getattr(mod, "berth_signature", None)
    if sig is None:
        return None, None
    try:
        return json.loads(json.dumps(sig)), None
    except (TypeError, ValueError) as e:
        return None, "berth_signature is not plain JSON data: %s" % safe_str(e)


def nest(flat, shape):
    """Row-major flat list to nested lists of `shape`; shape [] gives the element itself."""
    if not shape:
        return flat[0]
    it = iter(flat)
    last = len(shape) - 1

    def build(axis):
        n = shape[axis]
        if axis == last:
            return [next(it) for _ in range(n)]
        return [build(axis + 1) for _ in range(n)]

    return build(0)


def _decode_input(t, np):
    data = t["data"]
    if t.get("bytes_b64"):
        data = [base64.b64decode(x) for x in data]
    shape = t["shape"]
    if np is None:
        return nest(data, shape)
    if t["datatype"] == "BYTES":
        arr = np.empty(len(data), dtype=object)
        arr[:] = data
        return arr.reshape(shape)
    return np.array(data, dtype=_NUMPY_DTYPES[t["datatype"]]).reshape(shape)


def decode_request(body):
    """The dict infer(request) receives (docs/oip-v2.md)."""
    req = json.loads(body)
    np = numpy_module()
    inputs = req["inputs"]
    return {
        "id": req["id"],
        "parameters": req["parameters"],
        "inputs": {t["name"]: _decode_input(t, np) for t in inputs},
        "datatypes": {t["name"]: t["datatype"] for t in inputs},
        "input_parameters": {t["name"]: t["parameters"] for t in inputs},
        "outputs": req["outputs"],
    }


class OutputProblem(Exception):
    pass


def _text(x):
    if isinstance(x, (bytes, bytearray)):
        try:
            return bytes(x).decode("utf-8")
        except UnicodeDecodeError:
            raise OutputProblem("a BYTES element is not UTF-8 text, which JSON cannot carry")
    return x


def _plain(v):
    """Lists, tuples and array-likes as nested lists; bytes as text. Node works out shape and datatype."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return _text(v)
    f = getattr(v, "tolist", None)
    if callable(f):
        return _plain(f())
    return v


def _array_output(name, a, given):
    key = (a.dtype.kind, a.dtype.itemsize)
    if a.dtype.kind in "USO":
        datatype = "BYTES"
    elif key in _DATATYPES:
        datatype = _DATATYPES[key]
    else:
        raise OutputProblem("output %r has numpy dtype %s, which has no protocol datatype" % (name, a.dtype))
    flat = a.reshape(-1).tolist()
    if datatype == "BYTES":
        flat = [_text(x) for x in flat]
    out = {"name": name, "datatype": datatype, "shape": list(a.shape) or [1]}
    out.update(given)
    out["data"] = flat
    return out


def _output(o):
    name = o.get("name")
    if not isinstance(name, str):
        raise OutputProblem("an output's name must be a string, not %r" % (name,))
    data = o.get("data")
    given = {k: v for k, v in o.items() if k not in ("name", "data")}
    if hasattr(data, "dtype") and hasattr(data, "shape") and hasattr(data, "reshape"):
        return _array_output(name, data, given)
    out = {"name": name, "data": _plain(data)}
    out.update(given)
    return out


def encode_outputs(result):
    """JSON bytes for Node: {"outputs": [...]}, or {"output_error": why} when the result cannot be sent."""
    try:
        if isinstance(result, dict):
            items = [{"name": k, "data": v} for k, v in result.items()]
        elif isinstance(result, (list, tuple)) and all(isinstance(o, dict) for o in result):
            items = list(result)
        else:
            raise OutputProblem("infer() must return a dict of outputs (name -> array) or a list of output dicts, not %s"
                                % type(result).__name__)
        outputs = [_output(o) for o in items]
        return _encode({"outputs": outputs}).encode()
    except OutputProblem as e:
        return _encode({"output_error": safe_str(e)}).encode()
    except ValueError as e:
        return _encode({"output_error": "infer() returned NaN or infinity, which JSON cannot carry (%s)" % safe_str(e)}).encode()
    except TypeError as e:
        return _encode({"output_error": safe_str(e)}).encode()
