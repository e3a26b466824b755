# Unit tests (stdlib unittest) for the Python worker berth_runner.py and its shims, driven over real fds 3/4.
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNTIME = os.path.join(ROOT, "src", "inference", "runtime", "python")
RUNNER = os.path.join(RUNTIME, "berth_runner.py")
SITE = os.path.join(RUNTIME, "site")
FIXTURES = os.path.join(ROOT, "test", "fixtures")
HEAD = struct.Struct(">III")

sys.path.append(SITE)  # in-process tests of the shims import them like an entry script would

import berth  # noqa: E402
from azureml.contrib.services.aml_request import AMLRequest  # noqa: E402
from azureml.contrib.services.aml_response import AMLResponse  # noqa: E402
from azureml.core.model import Model  # noqa: E402


def fixture(name):
    return os.path.join(FIXTURES, name)


class Worker(object):
    """One runner process with fd 3/4 socket pairs, as `berth serve` starts it."""

    def __init__(self, entry, env=None, python=sys.executable, cancels=False):
        req_parent, req_child = socket.socketpair()
        rep_parent, rep_child = socket.socketpair()
        # Above 4, so the dup2() calls in the child cannot clobber one another.
        a = fcntl.fcntl(req_child.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
        b = fcntl.fcntl(rep_child.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
        req_child.close()
        rep_child.close()
        # fd 5, the stream cancels (optional, as for a runner started without it).
        self.cancel_w = None
        c = None
        if cancels:
            r, self.cancel_w = os.pipe()
            c = fcntl.fcntl(r, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(r)

        def wire():
            os.dup2(a, 3)
            os.dup2(b, 4)
            if c is not None:
                os.dup2(c, 5)

        full_env = {k: v for k, v in os.environ.items() if k not in ("AZUREML_MODEL_DIR", "BERTH_MODEL_DIR")}
        full_env.update(BERTH_ENTRY_SCRIPT=entry, BERTH_WORKER_ID="1", PYTHONUNBUFFERED="1")
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [python, "-u", RUNNER], cwd=os.path.dirname(entry), env=full_env, preexec_fn=wire,
            close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        os.close(a)
        os.close(b)
        if c is not None:
            os.close(c)
        self.req = req_parent
        self.rep_sock = rep_parent
        self.rep = rep_parent.makefile("rb")
        self.req.settimeout(20)
        self.rep_sock.settimeout(20)
        self.next_id = 1

    def send(self, body=b"", meta=None, rid=None):
        rid = rid or self.next_id
        self.next_id = rid + 1
        m = json.dumps(meta).encode() if meta is not None else b""
        if isinstance(body, str):
            body = body.encode()
        self.req.sendall(HEAD.pack(8 + len(m) + len(body), rid, len(m)) + m + body)
        return rid

    def recv(self):
        h = self.rep.read(12)
        if len(h) < 12:
            return None
        n, rid, mlen = HEAD.unpack(h)
        p = self.rep.read(n - 8)
        return rid, (json.loads(p[:mlen]) if mlen else None), p[mlen:]

    def ready(self):
        # The start-up phases come first (importing, init), then ready or init_failed.
        while True:
            rid, meta, _ = self.recv()
            assert rid == 0, rid
            if meta.get("event") != "phase":
                return meta

    def call(self, body=b"", meta=None):
        rid = self.send(body, meta)
        got = self.recv()
        assert got is not None and got[0] == rid, got
        return got[1], got[2]

    def finish(self, close=True):
        if close:
            self.req.close()
        try:
            code = self.proc.wait(20)
        finally:
            self.proc.kill()
        out, err = self.proc.stdout.read().decode(), self.proc.stderr.read().decode()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.rep.close()
        self.rep_sock.close()
        self.req.close()
        return code, out, err


class TempScript(object):
    """An entry script written to a temporary folder for one test."""

    def __init__(self, source, name="score.py"):
        self.dir = tempfile.mkdtemp(prefix="berth-runner-")
        self.path = os.path.join(self.dir, name)
        with open(self.path, "w") as f:
            f.write(textwrap.dedent(source))

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


class BodyModeTest(unittest.TestCase):
    def test_start_up_phases_come_before_ready(self):
        w = Worker(fixture("sum_score.py"))
        events = []
        while True:
            rid, meta, _ = w.recv()
            events.append((meta["event"], meta.get("phase")))
            if meta["event"] != "phase":
                break
        self.assertEqual(events, [("phase", "importing"), ("phase", "init"), ("ready", None)])
        self.assertEqual(w.finish()[0], 0)

    def test_sum_score_round_trip_print_and_logging(self):
        w = Worker(fixture("sum_score.py"))
        ready = w.ready()
        self.assertEqual(ready["event"], "ready")
        self.assertEqual(ready["mode"], "body")
        self.assertEqual(ready["pid"], w.proc.pid)
        self.assertIsInstance(ready["init_ms"], float)
        self.assertEqual(w.call('{"data": [[1,2],[3,4]]}'), (None, b'{"result": [3, 7]}'))
        self.assertEqual(w.call('{"data": [[5]], "log": true}'), (None, b'{"result": [5]}'))
        code, out, err = w.finish()
        self.assertEqual(code, 0)
        self.assertIn("sum_score init done", out)
        self.assertIn("INFO sum_score: sum_score run called with 1 rows", err)

    def test_invalid_utf8_and_run_errors(self):
        w = Worker(fixture("run_fails.py"))
        w.ready()
        meta, body = w.call(b"\xff\xfe")
        self.assertEqual(meta["error"], "utf8")
        self.assertIn("utf-8", meta["message"])
        meta, body = w.call("{}")
        self.assertEqual(meta["error"], "run")
        self.assertEqual(meta["exception"], "ZeroDivisionError")
        self.assertEqual(meta["message"], "division by zero")
        self.assertIn('run_fails.py", line 9, in run', meta["traceback"])
        self.assertNotIn("berth_runner.py", meta["traceback"])
        self.assertNotIn("_serve_loop", meta["traceback"])
        self.assertEqual(body, b"")
        code, _, err = w.finish()
        self.assertEqual(code, 0)
        self.assertNotIn("ZeroDivisionError", err)  # Node logs it, the runner does not

    def test_result_encoding_matches_classic(self):
        src = """
            import json
            class Arrayish:
                def tolist(self): return [[1, 2], [3, 4]]
            class Scalarish:
                def item(self): return 7
            def init(): pass
            def run(data):
                kind = json.loads(data)["kind"]
                return {
                    "none": None, "str": "héllo", "list": [1, "a"], "number": 2.5, "bool": True,
                    "numpy": {"a": Arrayish(), "s": Scalarish()}, "top_array": Arrayish(),
                    "bytes": b"raw", "object": object(), "tuple": (1, 2),
                }[kind]
        """
        with TempScript(src) as path:
            w = Worker(path)
            w.ready()

            def res(kind):
                return w.call(json.dumps({"kind": kind}))

            self.assertEqual(res("none"), (None, b"{}"))
            self.assertEqual(res("str"), (None, b'"h\\u00e9llo"'))
            self.assertEqual(res("list"), (None, b'[1, "a"]'))
            self.assertEqual(res("number"), (None, b"2.5"))
            self.assertEqual(res("bool"), (None, b"true"))
            self.assertEqual(res("tuple"), (None, b"[1, 2]"))
            self.assertEqual(res("numpy"), (None, b'{"a": [[1, 2], [3, 4]], "s": 7}'))
            self.assertEqual(res("top_array"), (None, b"[[1, 2], [3, 4]]"))
            meta, _ = res("bytes")
            self.assertEqual((meta["error"], meta["exception"]), ("run", "TypeError"))
            self.assertIn("bytes", meta["message"])
            self.assertIn("Response", meta["message"])
            meta, _ = res("object")
            self.assertEqual(meta["error"], "run")
            self.assertIn("object", meta["message"])
            self.assertEqual(w.finish()[0], 0)

    def test_keyword_only_data_parameter_and_async_functions(self):
        src = """
            import asyncio
            state = {}
            async def init():
                await asyncio.sleep(0)
                state["ok"] = True
            async def run(*, data):
                await asyncio.sleep(0)
                return {"len": len(data), "init": state["ok"]}
        """
        with TempScript(src) as path:
            w = Worker(path)
            self.assertEqual(w.ready()["mode"], "body")
            self.assertEqual(w.call("abc"), (None, b'{"len": 3, "init": true}'))
            self.assertEqual(w.finish()[0], 0)

    def test_module_name_is_the_file_name_and_sibling_modules_import(self):
        with TempScript("""
            import helper_mod
            import pickle
            class Thing: pass
            def init(): pass
            def run(data):
                return {"name": __name__, "helper": helper_mod.VALUE, "pickled": len(pickle.dumps(Thing())) > 0}
        """, name="my-score.py") as path:
            with open(os.path.join(os.path.dirname(path), "helper_mod.py"), "w") as f:
                f.write("VALUE = 42\n")
            w = Worker(path)
            w.ready()
            meta, body = w.call("x")
            self.assertIsNone(meta, meta)
            self.assertEqual(json.loads(body), {"name": "my_score", "helper": 42, "pickled": True})
            self.assertEqual(w.finish()[0], 0)

    def test_user_logging_config_wins_and_nothing_is_doubled(self):
        with TempScript("""
            import logging
            log = logging.getLogger("mine")
            def init():
                log.info("before config")
                logging.basicConfig(level=logging.INFO, format="CUSTOM %(message)s")
                log.info("after config")
            def run(data):
                log.info("in run")
                return {}
        """) as path:
            w = Worker(path)
            w.ready()
            w.call("x")
            code, _, err = w.finish()
            self.assertEqual(code, 0)
            self.assertIn("INFO mine: before config", err)
            self.assertEqual(err.count("after config"), 1, err)
            self.assertIn("CUSTOM after config", err)
            self.assertIn("CUSTOM in run", err)


class ModesTest(unittest.TestCase):
    def test_headers_mode(self):
        w = Worker(fixture("headers_score.py"))
        self.assertEqual(w.ready()["mode"], "headers")
        meta, body = w.call("hello", {"headers": {"x-echo": "hi", "content-type": "text/plain"}})
        self.assertIsNone(meta)
        self.assertEqual(json.loads(body), {"echo": "hi", "echo_lower": "hi", "body": "hello"})
        meta, _ = w.call(b"\xff", {"headers": {}})
        self.assertEqual(meta["error"], "utf8")
        self.assertEqual(w.finish()[0], 0)

    def test_rawhttp_classic_script(self):
        w = Worker(fixture("rawhttp_score.py"))
        self.assertEqual(w.ready()["mode"], "raw")
        meta, body = w.call('{"a": 1}', {"method": "POST", "path": "/score", "query": "x=1&m=a&m=b",
                                         "headers": {"content-type": "application/json"}})
        self.assertEqual(meta, {"status": 201, "headers": {"x-berth-test": "raw", "content-type": "application/json"}})
        info = json.loads(body)
        self.assertEqual(info["method"], "POST")
        self.assertEqual(info["full_path"], "/score?x=1&m=a&m=b")
        self.assertEqual(info["args"], {"x": "1", "m": "a"})
        self.assertEqual(info["multi"], ["a", "b"])
        self.assertEqual(info["length"], 8)
        self.assertEqual(info["json"], {"a": 1})
        # Raw mode takes any bytes: no UTF-8 check.
        meta, body = w.call(b"\xff\x00", {"method": "POST", "path": "/score", "query": "", "headers": {}})
        self.assertEqual(meta["status"], 201)
        self.assertEqual(json.loads(body)["length"], 2)
        meta, body = w.call(b"", {"method": "GET", "path": "/score", "query": "q=%20y", "headers": {}})
        self.assertIsNone(meta)
        self.assertEqual(json.loads(body)["args"], {"q": " y"})
        self.assertEqual(w.finish()[0], 0)

    def test_berth_rawhttp_with_request_headers(self):
        with TempScript("""
            import berth
            def init(): pass
            @berth.rawhttp
            def run(request, request_headers):
                return berth.Response(request.get_data(), status=202, headers={"X-Got": request_headers["X-A"]},
                                      content_type="application/x-test")
        """) as path:
            w = Worker(path)
            self.assertEqual(w.ready()["mode"], "raw")
            meta, body = w.call(b"\x00bin", {"method": "PUT", "path": "/score", "query": "", "headers": {"x-a": "1"}})
            self.assertEqual(meta, {"status": 202, "headers": {"x-got": "1", "content-type": "application/x-test"}})
            self.assertEqual(body, b"\x00bin")
            self.assertEqual(w.finish()[0], 0)

    def test_aml_response_forms(self):
        w = Worker(fixture("aml_response_score.py"))
        w.ready()

        def res(kind):
            return w.call(json.dumps({"kind": kind}))

        self.assertEqual(res("text"), ({"status": 200, "headers": {"content-type": "text/html; charset=utf-8"}}, b"plain text"))
        self.assertEqual(res("json"), ({"status": 200, "headers": {"content-type": "application/json"}}, b'{"hello": "world"}'))
        self.assertEqual(res("bytes"), ({"status": 200, "headers": {"content-type": "image/png"}}, b"\x89PNG\r\n"))
        self.assertEqual(res("none"), ({"status": 204, "headers": {"content-type": "application/json"}}, b"{}"))
        meta, body = res("status")
        self.assertEqual(meta["status"], 418)
        self.assertEqual(meta["headers"]["x-reason"], "short and stout")
        self.assertEqual(body, b"teapot")
        self.assertEqual(w.finish()[0], 0)


class StreamTest(unittest.TestCase):
    SCRIPT = """
        import os
        def init(): pass
        def run(data):
            if data == "plain-list": return ["a", "b"]
            if data == "iter": return iter(["x", b"\\x00\\x01"])
            if data == "raise": return boom()
            if data == "forever": return forever()
            return gen()
        def gen():
            yield "text"
            yield {"k": 1}
            yield b"raw"
        def boom():
            yield "one"
            raise ValueError("mid-stream")
        def forever():
            try:
                while True:
                    yield "tick"
            finally:
                print("closed", flush=True)
    """

    def frames_until_end(self, w, rid):
        out = []
        while True:
            got = w.recv()
            self.assertEqual(got[0], rid)
            out.append((got[1], got[2]))
            if got[1] is None or got[1].get("stream") in (None, "end", "error"):
                return out

    def test_generator_and_iterator_results_stream_as_chunk_frames(self):
        with TempScript(self.SCRIPT) as path:
            w = Worker(path)
            self.assertEqual(w.ready()["event"], "ready")
            rid = w.send("gen")
            self.assertEqual(self.frames_until_end(w, rid), [
                ({"stream": "start"}, b""),
                ({"stream": "chunk", "type": "text"}, b"text"),
                ({"stream": "chunk", "type": "json"}, b'{"k": 1}\n'),
                ({"stream": "chunk", "type": "bytes"}, b"raw"),
                ({"stream": "end"}, b""),
            ])
            rid = w.send("iter")
            got = self.frames_until_end(w, rid)
            self.assertEqual([m["stream"] for m, _ in got], ["start", "chunk", "chunk", "end"])
            self.assertEqual(got[2][1], b"\x00\x01")
            rid = w.send("raise")
            got = self.frames_until_end(w, rid)
            self.assertEqual(got[-1][0]["stream"], "error")
            self.assertEqual(got[-1][0]["exception"], "ValueError")
            self.assertIn("mid-stream", got[-1][0]["traceback"])
            # A list is a result, not a stream.
            self.assertEqual(w.call("plain-list"), (None, b'["a", "b"]'))
            w.finish()

    def test_an_id_on_fd_5_closes_the_generator_after_its_next_chunk(self):
        with TempScript(self.SCRIPT) as path:
            w = Worker(path, cancels=True)
            self.assertEqual(w.ready()["event"], "ready")
            rid = w.send("forever")
            self.assertEqual(w.recv()[1], {"stream": "start"})
            self.assertEqual(w.recv()[1]["stream"], "chunk")
            os.write(w.cancel_w, struct.pack(">I", rid))
            while True:
                _, meta, _ = w.recv()
                if meta["stream"] != "chunk":
                    break
            self.assertEqual(meta, {"stream": "end"})
            self.assertEqual(w.call("plain-list"), (None, b'["a", "b"]'))
            os.close(w.cancel_w)
            code, out, _ = w.finish()
            self.assertEqual(code, 0)
            self.assertIn("closed", out)


class InitFailureTest(unittest.TestCase):
    def failure(self, name, env=None):
        w = Worker(fixture(name), env)
        meta = w.ready()
        code, out, err = w.finish()
        self.assertEqual(meta["event"], "init_failed")
        self.assertEqual(code, 3)
        return meta

    def test_init_raises(self):
        m = self.failure("init_fails.py")
        self.assertEqual((m["kind"], m["exception"], m["message"]), ("init", "ValueError", "bad init"))
        self.assertEqual((m["file"], m["line"]), (fixture("init_fails.py"), 6))
        self.assertIn('init_fails.py", line 6, in init', m["traceback"])
        self.assertNotIn("berth_runner", m["traceback"])

    def test_syntax_error(self):
        m = self.failure("syntax_error.py")
        self.assertEqual((m["kind"], m["exception"]), ("import", "SyntaxError"))
        self.assertEqual((m["file"], m["line"]), (fixture("syntax_error.py"), 4))

    def test_import_error(self):
        m = self.failure("import_error.py")
        self.assertEqual((m["kind"], m["exception"]), ("import", "ModuleNotFoundError"))
        self.assertEqual((m["file"], m["line"]), (fixture("import_error.py"), 2))
        self.assertIn("berth_no_such_module_for_tests", m["message"])
        self.assertNotIn("importlib", m["traceback"])

    def test_missing_run(self):
        m = self.failure("missing_run.py")
        self.assertEqual((m["kind"], m["missing"]), ("missing", ["run"]))
        self.assertEqual(m["file"], fixture("missing_run.py"))
        self.assertNotIn("line", m)
        self.assertIn("predict", m["message"])  # what it does define: the likely typo

    def test_missing_model(self):
        m = self.failure("missing_model.py")
        self.assertEqual((m["kind"], m["exception"], m["line"]), ("init", "ModelNotFoundError", 6))
        self.assertIn("does-not-exist", m["message"])
        self.assertIn("AZUREML_MODEL_DIR is not set", m["message"])

    def test_missing_model_lists_what_is_mounted(self):
        m = self.failure("missing_model.py", {"AZUREML_MODEL_DIR": fixture("models")})
        self.assertIn("sum-model:1", m["message"])
        self.assertIn(fixture("models"), m["message"])

    def test_entry_script_not_found(self):
        m = self.failure("no_such_script.py")
        self.assertEqual((m["kind"], m["exception"]), ("import", "FileNotFoundError"))


class LifecycleTest(unittest.TestCase):
    def test_sigint_ignored_sigterm_exits_zero(self):
        w = Worker(fixture("sleep_score.py"))
        w.ready()
        w.proc.send_signal(signal.SIGINT)
        meta, body = w.call('{"seconds": 0}')
        self.assertIsNone(meta)
        self.assertEqual(json.loads(body)["pid"], w.proc.pid)
        w.send('{"seconds": 30}')
        w.proc.send_signal(signal.SIGTERM)
        self.assertEqual(w.finish(close=False)[0], 0)

    def test_eof_exits_zero(self):
        w = Worker(fixture("noop_score.py"))
        w.ready()
        self.assertEqual(w.finish()[0], 0)

    def test_deaths(self):
        for how, expected in (("exit", 7), ("kill", -signal.SIGKILL), ("segv", -signal.SIGSEGV)):
            w = Worker(fixture("exit_score.py"))
            w.ready()
            w.send(json.dumps({"how": how}))
            self.assertIsNone(w.recv())
            code, _, err = w.finish(close=False)
            self.assertEqual(code, expected, how)
            if how == "segv":
                self.assertIn("Segmentation fault", err)  # faulthandler's traceback


    def test_forked_children_do_not_hold_the_reply_channel(self):
        with TempScript("""
            import os, time
            child = None
            def init():
                global child
                child = os.fork()
                if child == 0:
                    time.sleep(30)
                    os._exit(0)
            def run(data):
                if data == "die":
                    os._exit(7)
                return {"child": child}
        """) as path:
            w = Worker(path)
            w.ready()
            child = json.loads(w.call("pid")[1])["child"]
            try:
                w.send("die")
                w.rep_sock.settimeout(5)
                self.assertIsNone(w.recv())  # EOF although the forked child still lives
            finally:
                os.kill(child, signal.SIGKILL)
            self.assertEqual(w.finish(close=False)[0], 7)


class ModelScriptTest(unittest.TestCase):
    def test_model_score_single_and_multi_layout(self):
        for model_dir in (fixture("models/sum-model/1"), fixture("models")):
            w = Worker(fixture("model_score.py"), {"AZUREML_MODEL_DIR": model_dir})
            self.assertEqual(w.ready()["event"], "ready")
            self.assertEqual(w.call('{"data": [[1, 2]]}'), (None, b'{"result": [3]}'))
            self.assertEqual(w.finish()[0], 0)

    def test_sklearn(self):
        python = "/usr/bin/python3"
        if subprocess.call([python, "-c", "import sklearn"], stderr=subprocess.DEVNULL) != 0:
            self.skipTest("scikit-learn is not installed for %s" % python)
        root = tempfile.mkdtemp(prefix="berth-sklearn-")
        try:
            model_dir = os.path.join(root, "azureml-models", "iris", "1")
            subprocess.check_call([python, fixture("sklearn_train.py"), model_dir], stdout=subprocess.DEVNULL)
            w = Worker(fixture("sklearn_score.py"), {"AZUREML_MODEL_DIR": model_dir}, python=python)
            self.assertEqual(w.ready()["event"], "ready")
            meta, body = w.call('{"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}')
            self.assertIsNone(meta, meta)
            self.assertEqual(json.loads(body), {"predictions": [0, 2]})
            self.assertEqual(w.finish()[0], 0)
        finally:
            shutil.rmtree(root, ignore_errors=True)


class GetModelPathTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="berth-models-")
        self.cwd = os.getcwd()
        self.saved = {k: os.environ.pop(k, None) for k in ("AZUREML_MODEL_DIR", "BERTH_MODEL_DIR")}
        os.chdir(self.root)

    def tearDown(self):
        os.chdir(self.cwd)
        for k, v in self.saved.items():
            if v is not None:
                os.environ[k] = v
            else:
                os.environ.pop(k, None)
        shutil.rmtree(self.root, ignore_errors=True)

    def make(self, *parts):
        path = os.path.join(self.root, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("x")
        return path

    def mount(self, *parts):
        os.environ["AZUREML_MODEL_DIR"] = os.path.join(self.root, *parts)

    def test_single_model_with_one_file_returns_the_file(self):
        f = self.make("m", "azureml-models", "clf", "3", "model.pkl")
        self.mount("m", "azureml-models", "clf", "3")
        self.assertEqual(berth.get_model_path("clf"), f)
        self.assertEqual(berth.get_model_path("clf", 3), f)
        self.assertEqual(Model.get_model_path("clf", version=3, _workspace=None), f)

    def test_single_model_with_several_files_returns_the_folder(self):
        self.make("m", "azureml-models", "clf", "1", "a.bin")
        self.make("m", "azureml-models", "clf", "1", "b.bin")
        self.make("m", "azureml-models", "clf", "1", ".DS_Store")
        self.mount("m", "azureml-models", "clf", "1")
        self.assertEqual(berth.get_model_path("clf"), os.path.join(self.root, "m", "azureml-models", "clf", "1"))

    def test_multi_model_layout_latest_and_given_version(self):
        self.make("m", "azureml-models", "a", "1", "w.json")
        self.make("m", "azureml-models", "a", "10", "w.json")
        self.make("m", "azureml-models", "a", "2", "w.json")
        self.make("m", "azureml-models", "b", "1", "x", "y.json")
        self.mount("m", "azureml-models")
        base = os.path.join(self.root, "m", "azureml-models")
        self.assertEqual(berth.get_model_path("a"), os.path.join(base, "a", "10", "w.json"))
        self.assertEqual(berth.get_model_path("a", "2"), os.path.join(base, "a", "2", "w.json"))
        self.assertEqual(berth.get_model_path("b"), os.path.join(base, "b", "1", "x"))  # one folder inside

    def test_arbitrary_model_dir_and_classic_fallbacks(self):
        self.make("plain", "model.pkl")
        self.mount("plain")
        self.assertEqual(berth.get_model_path("model.pkl"), os.path.join(self.root, "plain", "model.pkl"))
        os.environ.pop("AZUREML_MODEL_DIR")
        local = self.make("localmodel", "w.bin")
        self.assertEqual(berth.get_model_path("localmodel"), os.path.dirname(local))
        cached = self.make("azureml-models", "cached", "4", "w.bin")
        self.assertEqual(berth.get_model_path("cached"), cached)

    def test_not_found_messages(self):
        with self.assertRaises(berth.ModelNotFoundError) as cm:
            berth.get_model_path("nope")
        e = cm.exception
        self.assertIsInstance(e, FileNotFoundError)
        self.assertIsInstance(e, berth.BerthError)
        self.assertIn("'nope'", str(e))
        self.assertIn("AZUREML_MODEL_DIR is not set", str(e))

        os.makedirs(os.path.join(self.root, "empty"))
        self.mount("empty")
        with self.assertRaises(FileNotFoundError) as cm:
            berth.get_model_path("nope", 2)
        self.assertIn("version 2", str(cm.exception))
        self.assertIn("nothing is mounted", str(cm.exception))

        self.make("m", "azureml-models", "a", "1", "w")
        self.make("m", "azureml-models", "b", "7", "w")
        self.mount("m", "azureml-models")
        with self.assertRaises(FileNotFoundError) as cm:
            Model.get_model_path("a", 5)
        msg = str(cm.exception)
        self.assertIn("a:1", msg)
        self.assertIn("b:7", msg)
        self.assertIn(os.path.join(self.root, "m", "azureml-models", "a", "5"), msg)

        self.mount("m", "azureml-models", "a", "1")
        with self.assertRaises(berth.ModelNotFoundError) as cm:
            berth.get_model_path("b")
        self.assertIn("holds: a:1", str(cm.exception))

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            berth.get_model_path("")
        with self.assertRaises(ValueError):
            berth.get_model_path("a", "latest")


class RequestResponseTest(unittest.TestCase):
    def test_request_accessors(self):
        r = AMLRequest("post", "/score", "a=1&a=2&b=", {"content-type": "application/json; charset=utf-8",
                                                        "x-custom": "v", "host": "h:5001"}, b'{"k": [1]}')
        self.assertEqual(r.method, "POST")
        self.assertEqual(r.full_path, "/score?a=1&a=2&b=")
        self.assertEqual(r.query_string, b"a=1&a=2&b=")
        self.assertEqual(r.url, "http://h:5001/score?a=1&a=2&b=")
        self.assertEqual(r.args["a"], "1")
        self.assertEqual(r.args.get("b"), "")
        self.assertEqual(r.args.get("a", type=int), 1)
        self.assertEqual(r.args.getlist("a"), ["1", "2"])
        self.assertIsNone(r.args.get("zz"))
        with self.assertRaises(KeyError):
            r.args["zz"]
        self.assertEqual(r.headers["X-Custom"], "v")
        self.assertEqual(r.headers.get("x-custom"), "v")
        self.assertIn("X-CUSTOM", r.headers)
        self.assertIn("X-Custom", dict(r.headers))  # Title-Case names, as classic dict(request.headers)
        self.assertEqual(r.content_type, "application/json; charset=utf-8")
        self.assertEqual(r.mimetype, "application/json")
        self.assertTrue(r.is_json)
        self.assertEqual(r.get_json(), {"k": [1]})
        self.assertEqual(r.json, {"k": [1]})
        self.assertEqual(r.get_data(as_text=True), '{"k": [1]}')
        self.assertEqual(r.data, b'{"k": [1]}')

    def test_get_json_on_bad_body(self):
        r = AMLRequest("POST", "/score", "", {}, b"not json")
        self.assertIsNone(r.get_json(silent=True))
        with self.assertRaises(ValueError):
            r.get_json()

    def test_forms_and_files(self):
        r = AMLRequest("POST", "/score", "", {"content-type": "application/x-www-form-urlencoded"}, b"a=1&b=x+y")
        self.assertEqual(dict(r.form), {"a": "1", "b": "x y"})
        boundary = "XyZ"
        payload = (
            b"--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x00\xff\r\n--XyZ--\r\n"
        )
        r = AMLRequest("POST", "/score", "", {"content-type": "multipart/form-data; boundary=" + boundary}, payload)
        self.assertEqual(r.form["field"], "value")
        f = r.files["image"]
        self.assertEqual((f.filename, f.mimetype), ("a.png", "image/png"))
        self.assertEqual(f.read(), b"\x89PNG\r\n\x00\xff")

    def test_wsgi_environ_constructor(self):
        import io

        r = AMLRequest({"REQUEST_METHOD": "POST", "PATH_INFO": "/score", "QUERY_STRING": "x=1",
                        "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "2", "HTTP_X_A": "b",
                        "wsgi.input": io.BytesIO(b"hi")})
        self.assertEqual((r.method, r.path, r.args["x"], r.headers["X-A"], r.get_data()), ("POST", "/score", "1", "b", b"hi"))
        self.assertEqual(r.content_type, "text/plain")

    def test_response_content_types(self):
        self.assertEqual(AMLResponse("t", 200).content_type, "text/html; charset=utf-8")
        self.assertEqual(AMLResponse({"a": 1}, 200, json_str=True).get_data(), b'{"a": 1}')
        self.assertEqual(AMLResponse(None, 200).get_data(), b"{}")
        self.assertEqual(AMLResponse("x", 200, {"Content-Type": "text/csv"}).content_type, "text/csv")
        self.assertEqual(AMLResponse("x", 200, response_headers={"A": "b"}).headers["A"], "b")
        self.assertEqual(berth.Response(b"\x00").content_type, "application/octet-stream")
        self.assertEqual(berth.Response("x").content_type, "text/plain; charset=utf-8")
        self.assertEqual(berth.Response({"a": 1}, status=201).status_code, 201)
        self.assertEqual(berth.Response({"a": 1}).get_data(), b'{"a": 1}')
        self.assertEqual(berth.Response(None, 204).get_data(), b"")
        self.assertEqual(berth.Response("s", json_str=True).get_data(), b'"s"')
        self.assertEqual(berth.Response("s", json_str=True).content_type, "application/json")


if __name__ == "__main__":
    unittest.main()
