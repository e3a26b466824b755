# Failure text for the Python worker's reports: tracebacks that start at the user's code, str() that never raises.

# Frames of these files (the runner, the request loop) and of these prefixes (the import machinery, asyncio
# once a coroutine init()/run() is driven) tell the user nothing: trim_leading() drops them from the front.
_files = set()
_prefixes = ("<frozen importlib",)


def trim_file(filename):
    _files.add(filename)


def trim_prefix(prefix):
    global _prefixes
    if prefix not in _prefixes:
        _prefixes += (prefix,)


def _is_ours(filename):
    return filename in _files or filename.startswith(_prefixes)


def trim_leading(tb):
    while tb is not None and _is_ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def format_exc(e):
    import traceback

    try:
        return "".join(traceback.format_exception(type(e), e, trim_leading(e.__traceback__)))
    except Exception:
        return "%s: %s\n" % (type(e).__name__, safe_str(e))


def safe_str(e):
    try:
        return str(e)
    except Exception:
        try:
            return repr(e)
        except Exception:
            return "<unprintable %s>" % type(e).__name__
