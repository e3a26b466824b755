# The Python worker's channel to Node (PROTOCOL.md): fds 3/4, exit codes, the frame header, writing frames.
import json
import os
import struct
import sys

REQ_FD = 3  # requests, Node -> Python
REP_FD = 4  # replies, Python -> Node
CANCEL_FD = 5  # ids of streams whose client went away, Node -> Python (read between chunks)
EXIT_USAGE = 2  # started without fds 3/4 or without an entry script
EXIT_INIT_FAILED = 3
EXIT_PROTOCOL = 4  # a malformed frame arrived on fd 3

HEAD = struct.Struct(">III")  # frame length, id, metaLen: the first 12 bytes of every frame
_dumps = json.dumps


def exit_now(code):
    # os._exit: no waiting on threads the user's script may have started; flush what print() buffered first.
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass
    os._exit(code)


def write_all(data, done=0):
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
        exit_now(0)  # Node is gone: nobody is left to answer


def control(obj):
    meta = _dumps(obj).encode("utf-8")
    write_all(HEAD.pack(len(meta) + 8, 0, len(meta)) + meta)


def meta_frame(rid, meta, body=b""):
    m = _dumps(meta).encode("utf-8")
    return HEAD.pack(8 + len(m) + len(body), rid, len(m)) + m + body
