# The Python worker's request loop: reads request frames on fd 3, calls run(), writes reply frames on fd 4.
import io
import json
import os
import sys
import time

from ._tracebacks import format_exc, safe_str, trim_file
from ._wire import EXIT_PROTOCOL, HEAD, REP_FD, REQ_FD, exit_now, meta_frame, write_all

trim_file(__file__)  # serve() and invoke() lead every run() traceback

_DROP_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))  # Node frames the body itself


def _make_invoke(run, raw, wants_headers, data_name, berth):
    """invoke(arg, meta) -> run()'s result, for every mode but the plain body one (which serve inlines)."""
    from_wire = berth.Headers._from_wire

    def headers_of(arg, meta):
        return arg.headers if raw else from_wire(meta.get("headers"))

    if wants_headers and data_name is None:
        def invoke(arg, meta):
            return run(arg, request_headers=headers_of(arg, meta))
    elif wants_headers:
        def invoke(arg, meta):
            return run(**{data_name: arg, "request_headers": headers_of(arg, meta)})
    elif data_name is not None:
        def invoke(arg, meta):
            return run(**{data_name: arg})
    else:
        def invoke(arg, meta):
            return run(arg)
    return invoke


def _make_request(berth):
    Request = berth.Request
    from_wire = berth.Headers._from_wire

    def make(meta, body):
        return Request(meta.get("method", "POST"), meta.get("path", "/score"), meta.get("query", ""),
                       from_wire(meta.get("headers")), body, meta.get("remote_addr"))

    return make


def _run_error(rid, e):
    return meta_frame(rid, {"error": "run", "exception": type(e).__name__, "message": safe_str(e),
                            "traceback": format_exc(e)})


def _expired(rid):
    # A request queued behind a busy run() whose queue-wait budget ran out: Node has answered 503 already.
    return meta_frame(rid, {"error": "expired"})


def _utf8_error(rid, e):
    return meta_frame(rid, {"error": "utf8", "message": safe_str(e)})


def _encode_error(rid, r, e):
    # Reported as a run() failure: the classic server answered 500 for results json.dumps() could not encode.
    msg = "run() returned a %s that cannot be encoded as JSON: %s" % (type(r).__name__, safe_str(e))
    return meta_frame(rid, {"error": "run", "exception": type(e).__name__, "message": msg,
                            "traceback": "%s: %s\n" % (type(e).__name__, msg)})


def _other_result(rid, r, enc, pack):
    """Reply frame for anything but a dict, list or str result."""
    if r is None:
        return pack(10, rid, 0) + b"{}"  # the classic server answers {} when run() returns None
    t = type(r)
    if getattr(t, "_berth_response", False) is True:  # berth.Response / AMLResponse shim
        status, headers, body = r._berth_payload()
        for k in _DROP_HEADERS.intersection(headers):
            del headers[k]
        return meta_frame(rid, {"status": status, "headers": headers}, body)
    if hasattr(r, "status_code") and hasattr(r, "get_data") and hasattr(r, "headers"):
        # A flask/werkzeug Response (a real SDK's AMLResponse): repeated headers become lists.
        headers = {}
        for k, v in r.headers.items():
            k = k.lower()
            if k in _DROP_HEADERS:
                continue
            if k in headers:
                prev = headers[k]
                headers[k] = (prev if isinstance(prev, list) else [prev]) + [str(v)]
            else:
                headers[k] = str(v)
        return meta_frame(rid, {"status": int(r.status_code), "headers": headers}, r.get_data())
    try:
        out = enc(r).encode()
    except Exception as e:
        return _encode_error(rid, r, e)
    return pack(len(out) + 8, rid, 0) + out


def _make_infer(infer, pack):
    """frame(rid, payload) for an Open Inference Protocol request: infer(request) on the decoded tensors (docs/oip-v2.md)."""
    from . import _oip

    def frame(rid, payload):
        if infer is None:
            # Node sends these only to scripts whose ready event said they define infer().
            return meta_frame(rid, {"error": "run", "exception": "AttributeError", "message": "the entry script defines no infer()",
                                    "traceback": ""})
        try:
            request = _oip.decode_request(payload)
            r = infer(request)
        except Exception as e:
            return _run_error(rid, e)
        out = _oip.encode_outputs(r)
        return pack(len(out) + 8, rid, 0) + out

    return frame


def serve(run, mode, wants_headers, data_name, berth, infer=None):
    """Answer requests until EOF on fd 3 (or Node is gone). `berth` is the loaded berth package; `infer` the script's infer() or None."""
    # Everything the loop touches is a local: this is the hot path.
    read = io.open(REQ_FD, "rb", buffering=1 << 16, closefd=False).read
    write = os.write
    unpack = HEAD.unpack
    pack = HEAD.pack
    enc = berth._http.encode_json
    decode = bytes.decode
    loads = json.loads
    raw = mode == "raw"
    body_mode = mode == "body" and data_name is None
    invoke = None if body_mode else _make_invoke(run, raw, wants_headers, data_name, berth)
    make_request = _make_request(berth) if raw else None
    other = _other_result
    infer_frame = _make_infer(infer, pack)
    fd = REP_FD
    dict_, list_, str_ = dict, list, str
    monotonic_ns = time.monotonic_ns
    no_meta = {}  # shared and never written: meta is only read

    while True:
        head = read(12)
        if len(head) < 12:
            return  # EOF: Node closed the request channel
        n, rid, mlen = unpack(head)
        if n < 8 or mlen > n - 8:
            sys.stderr.write("berth runner: malformed frame (length %d, metaLen %d)\n" % (n, mlen))
            exit_now(EXIT_PROTOCOL)
        payload = read(n - 8)
        if len(payload) < n - 8:
            return

        if mlen:
            meta = loads(payload[:mlen])
            payload = payload[mlen:]
            # A request sent ahead to this busy worker carries a deadline: past it, Node has answered 503 already.
            if monotonic_ns() > meta.get("deadline_ns", 1 << 63):
                write_all(_expired(rid))
                continue
            if "infer" in meta:
                write_all(infer_frame(rid, payload))
                continue
        else:
            meta = no_meta

        if body_mode:
            try:
                data = decode(payload)
            except UnicodeDecodeError as e:
                write_all(_utf8_error(rid, e))
                continue
            try:
                r = run(data)
            except Exception as e:
                write_all(_run_error(rid, e))
                continue
        else:
            if raw:
                arg = make_request(meta, payload)
            else:
                try:
                    arg = decode(payload)
                except UnicodeDecodeError as e:
                    write_all(_utf8_error(rid, e))
                    continue
            try:
                r = invoke(arg, meta)
            except Exception as e:
                write_all(_run_error(rid, e))
                continue

        t = type(r)
        if t is dict_ or t is list_ or t is str_:
            try:
                out = enc(r).encode()
            except Exception as e:
                write_all(_encode_error(rid, r, e))
                continue
            frame = pack(len(out) + 8, rid, 0) + out
        else:
            frame = other(rid, r, enc, pack)
        try:
            k = write(fd, frame)
        except BrokenPipeError:
            return
        if k != len(frame):
            write_all(frame, k)
