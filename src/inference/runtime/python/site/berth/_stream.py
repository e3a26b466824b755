# Streaming run() results (PROTOCOL.md, Streaming): a generator's or iterator's items become chunk frames on fd 4; fd 5 says which client went away.
import os
import struct
import types

from ._tracebacks import format_exc, safe_str, trim_file
from ._wire import CANCEL_FD, HEAD, meta_frame, write_all

trim_file(__file__)  # the loop below leads every traceback of a generator

_ID = struct.Struct(">I")
_START = b'{"stream": "start"}'
_END = b'{"stream": "end"}'
_CHUNK = {k: ('{"stream": "chunk", "type": "%s"}' % k).encode() for k in ("json", "text", "bytes")}
_NOT_STREAMS = (str, bytes, bytearray, memoryview, dict, list, tuple)


def is_stream(r):
    """A generator, or any other iterator (it has __next__), but never a plain value that happens to be iterable."""
    t = type(r)
    return t is types.GeneratorType or (hasattr(t, "__next__") and not isinstance(r, _NOT_STREAMS))


def _control(rid, meta):
    return HEAD.pack(8 + len(meta), rid, len(meta)) + meta


class _Cancels:
    """Reads fd 5 without blocking: the ids of streams whose client went away (4 bytes each, big-endian)."""

    def __init__(self):
        self.fd = None
        self.pending = b""
        try:
            os.fstat(CANCEL_FD)
            os.set_blocking(CANCEL_FD, False)
            os.set_inheritable(CANCEL_FD, False)
            self.fd = CANCEL_FD
        except OSError:
            pass  # started without fd 5 (by hand, or a test harness): streams just run to their end

    def wanted(self, rid):
        """False when the client of stream `rid` went away (one non-blocking read per chunk; nothing else is done here)."""
        if self.fd is None:
            return True
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return True
        except OSError:
            return True
        if not data:
            self.fd = None  # Node closed its end
            return True
        data = self.pending + data
        n = len(data) - len(data) % 4
        self.pending = data[n:]
        return all(_ID.unpack_from(data, i)[0] != rid for i in range(0, n, 4))


_cancels = None


def stream(rid, it, enc):
    """Writes `it`'s items as chunks until it ends, raises, or its client goes away (then it is closed, so its finally runs)."""
    global _cancels
    if _cancels is None:
        _cancels = _Cancels()
    wanted = _cancels.wanted
    pack = HEAD.pack
    write_all(_control(rid, _START))
    try:
        for item in it:
            t = type(item)
            if t is bytes or t is bytearray or t is memoryview:
                kind, data = "bytes", bytes(item)
            elif t is str:
                kind, data = "text", item.encode("utf-8")
            else:
                try:
                    data = (enc(item) + "\n").encode()
                except Exception as e:
                    raise TypeError("run() yielded a %s that cannot be encoded as JSON: %s" % (type(item).__name__, safe_str(e)))
                kind = "json"
            meta = _CHUNK[kind]
            write_all(pack(8 + len(meta) + len(data), rid, len(meta)) + meta + data)
            if not wanted(rid):
                close = getattr(it, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:
                        pass  # the client is gone: nobody is left to tell
                break
    except Exception as e:
        write_all(meta_frame(rid, {"stream": "error", "exception": type(e).__name__, "message": safe_str(e),
                                   "traceback": format_exc(e)}))
        return
    write_all(_control(rid, _END))
