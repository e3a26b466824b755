# Python worker of `berth serve`: imports the entry script, calls init() once, then answers run() requests framed on fds 3/4 (see PROTOCOL.md).
import gc
import os
import signal
import sys
import time

RUNNER_FILE = os.path.abspath(__file__)
RUNNER_DIR = os.path.dirname(RUNNER_FILE)
SITE_DIR = os.path.join(RUNNER_DIR, "site")
BERTH_DIR = os.path.join(SITE_DIR, "berth")


def _load_by_path(name, path, package_dir=None):
    # Import a module (or, with package_dir, a package) from its file, whatever sys.path holds.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=None if package_dir is None else [package_dir]
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


# The channel to Node and the failure text are needed before sys.path is set up and the berth package can be
# loaded: load these two standard-library-only modules of it on their own now, under the names its request
# loop (berth._serve_loop) imports them by.
_wire = _load_by_path("berth._wire", os.path.join(BERTH_DIR, "_wire.py"))
_tracebacks = _load_by_path("berth._tracebacks", os.path.join(BERTH_DIR, "_tracebacks.py"))
_tracebacks.trim_file(RUNNER_FILE)
REQ_FD, REP_FD = _wire.REQ_FD, _wire.REP_FD
_exit = _wire.exit_now
_control = _wire.control
_format_exc = _tracebacks.format_exc
_safe_str = _tracebacks.safe_str


# --- failure reporting ------------------------------------------------------------------------------------


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
    _exit(_wire.EXIT_INIT_FAILED)


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
            _exit(_wire.EXIT_USAGE)
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
    return _load_by_path("berth", os.path.join(BERTH_DIR, "__init__.py"), package_dir=BERTH_DIR)


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
    import asyncio

    _tracebacks.trim_prefix(os.path.dirname(asyncio.__file__))
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


def _start_debugger():
    """`berth service debug --inspect`: debugpy listens before the entry script loads, so breakpoints in init() hit.

    debugpy is imported only when asked for; the runner itself stays stdlib-only.
    """
    port = os.environ.get("BERTH_DEBUGPY_PORT")
    if not port:
        return
    import debugpy

    debugpy.listen(("127.0.0.1", int(port)))
    sys.stderr.write("berth: debugpy listens on 127.0.0.1:%s; attach your debugger (the entry script waits for it)\n" % port)
    debugpy.wait_for_client()


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
    from berth._serve_loop import serve
    _setup_logging()
    _start_debugger()

    _control({"event": "phase", "phase": "importing"})
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
    # Open Inference Protocol: an optional infer(request) and berth_signature (docs/oip-v2.md).
    infer = getattr(mod, "infer", None)
    if not callable(infer):
        infer = None
    elif inspect.iscoroutinefunction(infer):
        infer = _wrap_async(infer)

    _control({"event": "phase", "phase": "init"})
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

    # Read after init(), so a signature init() works out (from the loaded model) counts too.
    from berth._oip import signature_of
    signature, signature_error = signature_of(mod)
    oip = {"infer": infer is not None}
    if signature is not None:
        oip["signature"] = signature
    if signature_error is not None:
        oip["signature_error"] = signature_error
    mode = "raw" if raw else ("headers" if wants_headers else "body")
    _control({"event": "ready", "mode": mode, "pid": os.getpid(), "init_ms": round(init_ms, 3),
              "python": sys.version.split()[0], "oip": oip})
    serve(run, mode, wants_headers, data_name, berth, infer)
    _exit(0)


if __name__ == "__main__":
    main()
