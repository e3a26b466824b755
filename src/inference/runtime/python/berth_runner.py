# Python worker of `berth serve`: imports the entry script, calls init() once, then answers run() requests framed on fds 3/4 (see PROTOCOL.md).
import gc
import io
import json
import os
import signal
import struct
import sys
import time

REQ_FD = 3  # requests, Node -> Python
REP_FD = 4  # replies, Python -> Node
EXIT_INIT_FAILED = 3
EXIT_USAGE = 2  # started without fds 3/4 or without an entry script
EXIT_PROTOCOL = 4  # a malformed frame arrived on fd 3

RUNNER_FILE = os.path.abspath(__file__)
RUNNER_DIR = os.path.dirname(RUNNER_FILE)
SITE_DIR = os.path.join(RUNNER_DIR, "site")

_HEAD = struct.Struct(">III")  # frame length, id, metaLen: the first 12 bytes of every frame
_dumps = json.dumps


def _exit(code):
    # os._exit: no waiting on threads the user's script may have started; flush what print() buffered first.
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass
    os._exit(code)


def _write_all(data, done=0):
    # A blocking write normally takes everything at once; loop for the rare partial write (large replies).
    total = len(data)
    if done >= total:
        return
    view = memoryview(data)
    write = os.write
    try:
        while done < total:
            done += write(REP_FD, view[done:])
    except BrokenPipeError:
        _exit(0)  # Node is gone: nobody is left to answer


def _control(obj):
    meta = _dumps(obj).encode("utf-8")
    _write_all(_HEAD.pack(len(meta) + 8, 0, len(meta)) + meta)


def _meta_frame(rid, meta, body=b""):
    m = _dumps(meta).encode("utf-8")
    return _HEAD.pack(8 + len(m) + len(body), rid, len(m)) + m + body


# --- tracebacks -------------------------------------------------------------------------------------------

_ASYNCIO_DIR = None


def _is_ours(filename):
    # Frames of the runner and of the import machinery tell the user nothing: trim them from the front.
    return (
        filename == RUNNER_FILE
        or filename.startswith("<frozen importlib")
        or (_ASYNCIO_DIR is not None and filename.startswith(_ASYNCIO_DIR))
    )


def _trimmed(tb):
    while tb is not None and _is_ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _format_exc(e):
    import traceback

    try:
        return "".join(traceback.format_exception(type(e), e, _trimmed(e.__traceback__)))
    except Exception:
        return "%s: %s\n" % (type(e).__name__, _safe_str(e))


def _safe_str(e):
    try:
        return str(e)
    except Exception:
        try:
            return repr(e)
        except Exception:
            return "<unprintable %s>" % type(e).__name__


def _same_file(a, b):
    try:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))
    except Exception:
        return False


def _location(e, entry):
    """(file, line) to blame: a SyntaxError's own position, else the innermost traceback frame in the entry script."""
    if isinstance(e, SyntaxError) and e.filename:
        return os.path.abspath(e.filename), e.lineno
    file, line = entry, None
    tb = e.__traceback__
    while tb is not None:
        if _same_file(tb.tb_frame.f_code.co_filename, entry):
            line = tb.tb_lineno
        tb = tb.tb_next
    return file, line


def _init_failed(kind, entry, e=None, missing=None, message=None):
    msg = {"event": "init_failed", "kind": kind}
    if e is not None:
        file, line = _location(e, entry)
        msg.update(exception=type(e).__name__, message=message or _safe_str(e), file=file, line=line,
                   traceback=_format_exc(e))
    else:
        # A missing function is what `module.run` would raise on; no line to point at.
        msg.update(exception="AttributeError", message=message, file=entry, line=None, traceback="")
    for k in ("file", "line"):
        if msg[k] is None:
            del msg[k]  # absent rather than null: "unknown"
    if missing is not None:
        msg["missing"] = missing
    try:
        _control(msg)
    except OSError:
        # No channel to Node (e.g. started by hand): say it on stderr instead.
        sys.stderr.write("berth runner: %s failed: %s\n%s" % (kind, msg.get("message"), msg.get("traceback", "")))
    _exit(EXIT_INIT_FAILED)


# --- start-up -----------------------------------------------------------------------------------------------


def _check_fds():
    for fd in (REQ_FD, REP_FD):
        try:
            os.fstat(fd)
        except OSError:
            sys.stderr.write(
                "berth runner: fd %d is not open; this program is started by `berth serve`, which passes "
                "requests on fd 3 and reads replies on fd 4\n" % fd
            )
            _exit(EXIT_USAGE)
        # Blocking I/O keeps the loop simple; not inheritable, so subprocesses the script spawns don't hold them.
        os.set_blocking(fd, True)
        os.set_inheritable(fd, False)
    if hasattr(os, "register_at_fork"):
        # Processes the script forks (multiprocessing pools) must not keep Node's channel open after we die.
        os.register_at_fork(after_in_child=_close_channel)


def _close_channel():
    for fd in (REQ_FD, REP_FD):
        try:
            os.close(fd)
        except OSError:
            pass


def _setup_paths(entry_dir):
    # The entry script's folder first (its sibling modules win), the shim folder last (a real azureml SDK wins).
    sys.path[:] = [p for p in sys.path if not _same_file(p or ".", RUNNER_DIR)]
    sys.path.insert(0, entry_dir)
    if SITE_DIR not in sys.path:
        sys.path.append(SITE_DIR)


def _load_berth():
    # Load berth's own helper package by path, so an unrelated `berth` elsewhere on sys.path cannot shadow it.
    import importlib.util

    pkg = os.path.join(SITE_DIR, "berth")
    spec = importlib.util.spec_from_file_location(
        "berth", os.path.join(pkg, "__init__.py"), submodule_search_locations=[pkg]
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules["berth"] = mod
    spec.loader.exec_module(mod)
    return mod


def _setup_logging():
    # Replacing logging.lastResort (used only while no handler is configured anywhere) means: INFO to stderr
    # until the script configures logging itself, and never twice. basicConfig() in init() still takes effect,
    # which would not be true had we added a root handler.
    import logging

    root = logging.getLogger()
    if root.handlers:
        return  # configured already (sitecustomize or the like)
    factory = getattr(logging, "_StderrHandler", None)
    handler = factory(logging.INFO) if factory else logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.lastResort = handler
    if root.level == logging.WARNING:  # the untouched default
        root.setLevel(logging.INFO)


def _module_name(entry):
    import re

    stem = os.path.splitext(os.path.basename(entry))[0]
    name = re.sub(r"\W", "_", stem) or "entry_script"
    if name[0].isdigit():
        name = "_" + name
    return name


def _import_entry(entry):
    import importlib.machinery
    import importlib.util

    name = _module_name(entry)
    loader = importlib.machinery.SourceFileLoader(name, entry)
    spec = importlib.util.spec_from_file_location(name, entry, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    # Registered like a normal import (pickles of classes defined in the script resolve; `import score` finds
    # it), unless the name is taken (a script called json.py must not replace the standard json).
    register = name not in sys.modules
    if register:
        sys.modules[name] = mod
    try:
        loader.exec_module(mod)
    except BaseException:
        if register:
            sys.modules.pop(name, None)
        raise
    return mod


def _wrap_async(fn):
    # Coroutine init()/run(): drive them on one event loop that lives as long as the worker.
    global _ASYNCIO_DIR
    import asyncio

    _ASYNCIO_DIR = os.path.dirname(asyncio.__file__)
    loop = _wrap_async.loop = getattr(_wrap_async, "loop", None) or asyncio.new_event_loop()

    def call(*args, **kwargs):
        return loop.run_until_complete(fn(*args, **kwargs))

    return call


def _is_raw(run):
    if getattr(run, "_berth_rawhttp", False) is True:
        return True
    # The classic decorators set a module-level flag instead (berth's shim, or a real SDK / server module).
    for m in ("berth._http", "azureml.contrib.services.aml_request", "azureml_inference_server_http.api.aml_request"):
        if getattr(sys.modules.get(m), "_rawHttpRequested", False) is True:
            return True
    return False


def _analyse_run(run):
    """(wants request_headers, name of the data parameter or None when it can be passed positionally)."""
    import inspect

    try:
        params = list(inspect.signature(run).parameters.values())
    except (TypeError, ValueError):
        return False, None
    wants_headers = any(p.name == "request_headers" for p in params)
    data = [p for p in params if p.name != "request_headers"]
    if not data:
        return wants_headers, None
    first = data[0]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                  inspect.Parameter.VAR_POSITIONAL)
    if first is params[0] and first.kind in positional:
        return wants_headers, None
    return wants_headers, (first.name if first.kind != inspect.Parameter.VAR_KEYWORD else None)


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Node owns the lifecycle (Ctrl-C reaches the whole group)
    signal.signal(signal.SIGTERM, lambda signum, frame: _exit(0))
    _check_fds()
    import faulthandler

    faulthandler.enable()  # a crash in native code leaves a Python traceback in the log

    entry = os.environ.get("BERTH_ENTRY_SCRIPT") or os.environ.get("AZUREML_ENTRY_SCRIPT")
    if not entry:
        _init_failed("import", None, message="BERTH_ENTRY_SCRIPT is not set: no entry script to load")
    entry = os.path.abspath(entry)
    sys.argv = [entry]
    _setup_paths(os.path.dirname(entry))
    berth = _load_berth()
    _setup_logging()

    try:
        mod = _import_entry(entry)
    except BaseException as e:  # SystemExit and friends in module code fail the import too
        _init_failed("import", entry, e)

    missing = [f for f in ("init", "run") if not callable(getattr(mod, f, None))]
    if missing:
        defined = sorted(k for k, v in vars(mod).items()
                         if callable(v) and not k.startswith("_") and getattr(v, "__module__", None) == mod.__name__)
        _init_failed(
            "missing", entry, missing=missing,
            message="the entry script %s does not define %s at its top level%s" % (
                entry, " or ".join("%s()" % f for f in missing),
                "; it defines: %s" % ", ".join(defined) if defined else ""),
        )
    init = mod.init
    run = mod.run
    # Some generated scripts forward to the real one through `driver_module`; call its run() directly, as classic.
    driver = getattr(mod, "driver_module", None)
    if type(driver) is type(sys) and callable(getattr(driver, "run", None)):
        run = driver.run

    import inspect

    if inspect.iscoroutinefunction(init):
        init = _wrap_async(init)
    raw = _is_raw(run)
    wants_headers, data_name = _analyse_run(run)
    if inspect.iscoroutinefunction(run):
        run = _wrap_async(run)

    t0 = time.perf_counter()
    try:
        init()
    except BaseException as e:  # sys.exit() in init() is a failed init too
        _init_failed("init", entry, e)
    init_ms = (time.perf_counter() - t0) * 1000.0

    # Objects created by init() (the model) are long-lived: move them out of the collector's way.
    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()

    mode = "raw" if raw else ("headers" if wants_headers else "body")
    _control({"event": "ready", "mode": mode, "pid": os.getpid(), "init_ms": round(init_ms, 3),
              "python": sys.version.split()[0]})
    _serve(run, mode, wants_headers, data_name, berth)
    _exit(0)


# --- the request loop -----------------------------------------------------------------------------------------


def _make_invoke(run, raw, wants_headers, data_name, berth):
    """invoke(arg, meta) -> run()'s result, for every mode but the plain body one (which _serve inlines)."""
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
    return _meta_frame(rid, {"error": "run", "exception": type(e).__name__, "message": _safe_str(e),
                             "traceback": _format_exc(e)})


def _utf8_error(rid, e):
    return _meta_frame(rid, {"error": "utf8", "message": _safe_str(e)})


def _encode_error(rid, r, e):
    # Reported as a run() failure: the classic server answered 500 for results json.dumps() could not encode.
    msg = "run() returned a %s that cannot be encoded as JSON: %s" % (type(r).__name__, _safe_str(e))
    return _meta_frame(rid, {"error": "run", "exception": type(e).__name__, "message": msg,
                             "traceback": "%s: %s\n" % (type(e).__name__, msg)})


_DROP_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))  # Node frames the body itself


def _other_result(rid, r, enc, pack):
    """Reply frame for anything but a dict, list or str result."""
    if r is None:
        return pack(10, rid, 0) + b"{}"  # the classic server answers {} when run() returns None
    t = type(r)
    if getattr(t, "_berth_response", False) is True:  # berth.Response / AMLResponse shim
        status, headers, body = r._berth_payload()
        for k in _DROP_HEADERS.intersection(headers):
            del headers[k]
        return _meta_frame(rid, {"status": status, "headers": headers}, body)
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
        return _meta_frame(rid, {"status": int(r.status_code), "headers": headers}, r.get_data())
    try:
        out = enc(r).encode()
    except Exception as e:
        return _encode_error(rid, r, e)
    return pack(len(out) + 8, rid, 0) + out


def _serve(run, mode, wants_headers, data_name, berth):
    # Everything the loop touches is a local: this is the hot path.
    read = io.open(REQ_FD, "rb", buffering=1 << 16, closefd=False).read
    write = os.write
    unpack = _HEAD.unpack
    pack = _HEAD.pack
    enc = berth._http.encode_json
    decode = bytes.decode
    loads = json.loads
    raw = mode == "raw"
    body_mode = mode == "body" and data_name is None
    invoke = None if body_mode else _make_invoke(run, raw, wants_headers, data_name, berth)
    make_request = _make_request(berth) if raw else None
    other = _other_result
    fd = REP_FD
    dict_, list_, str_ = dict, list, str

    while True:
        head = read(12)
        if len(head) < 12:
            return  # EOF: Node closed the request channel
        n, rid, mlen = unpack(head)
        if n < 8 or mlen > n - 8:
            sys.stderr.write("berth runner: malformed frame (length %d, metaLen %d)\n" % (n, mlen))
            _exit(EXIT_PROTOCOL)
        payload = read(n - 8)
        if len(payload) < n - 8:
            return

        if body_mode:
            if mlen:
                payload = payload[mlen:]
            try:
                data = decode(payload)
            except UnicodeDecodeError as e:
                _write_all(_utf8_error(rid, e))
                continue
            try:
                r = run(data)
            except Exception as e:
                _write_all(_run_error(rid, e))
                continue
        else:
            if mlen:
                meta = loads(payload[:mlen])
                payload = payload[mlen:]
            else:
                meta = {}
            if raw:
                arg = make_request(meta, payload)
            else:
                try:
                    arg = decode(payload)
                except UnicodeDecodeError as e:
                    _write_all(_utf8_error(rid, e))
                    continue
            try:
                r = invoke(arg, meta)
            except Exception as e:
                _write_all(_run_error(rid, e))
                continue

        t = type(r)
        if t is dict_ or t is list_ or t is str_:
            try:
                out = enc(r).encode()
            except Exception as e:
                _write_all(_encode_error(rid, r, e))
                continue
            frame = pack(len(out) + 8, rid, 0) + out
        else:
            frame = other(rid, r, enc, pack)
        try:
            k = write(fd, frame)
        except BrokenPipeError:
            return
        if k != len(frame):
            _write_all(frame, k)


if __name__ == "__main__":
    main()
