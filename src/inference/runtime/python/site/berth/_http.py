# HTTP-side objects handed to and returned from run(): Request (raw mode), Response, Headers, the JSON hook, rawhttp.
import io
import json
from urllib.parse import parse_qsl, unquote

__all__ = ["Headers", "Args", "FileStorage", "Request", "Response", "rawhttp", "json_default", "encode_json"]

# Module-level flag, like the classic server's: some scripts decorate a wrapper rather than run() itself.
_rawHttpRequested = False


def rawhttp(func):
    """Mark run() as wanting the raw request (a berth.Request / AMLRequest) instead of the body string."""
    global _rawHttpRequested
    _rawHttpRequested = True
    try:
        func._berth_rawhttp = True
    except (AttributeError, TypeError):
        pass  # builtins and some callables take no attributes; the module flag still says "raw"
    return func


def json_default(o):
    """json `default=` hook: numpy arrays/scalars (and anything else with tolist()/item()) without importing numpy."""
    f = getattr(o, "tolist", None)
    if callable(f):
        return f()
    f = getattr(o, "item", None)
    if callable(f):
        return f()
    if isinstance(o, (bytes, bytearray)):
        raise TypeError(
            "Object of type %s is not JSON serializable; to send raw bytes return "
            "berth.Response(body, content_type=...) or AMLResponse(body, 200)" % type(o).__name__
        )
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


# Same output as the classic server's json.dumps(result) (default separators, ASCII), plus the numpy hook.
encode_json = json.JSONEncoder(default=json_default).encode


def _title(name):
    # werkzeug presents header names as "Content-Type"; Node sends them lower-case.
    return name.title() if isinstance(name, str) else name


class Headers(dict):
    """Request headers: a plain dict with Title-Case names (as classic `dict(request.headers)`) and case-insensitive lookup."""

    __slots__ = ()

    @classmethod
    def _from_wire(cls, raw):
        h = cls()
        if raw:
            for k, v in raw.items():
                dict.__setitem__(h, k.title(), v)
        return h

    def __getitem__(self, key):
        try:
            return dict.__getitem__(self, key)
        except KeyError:
            return dict.__getitem__(self, _title(key))

    def __contains__(self, key):
        return dict.__contains__(self, key) or dict.__contains__(self, _title(key))

    def get(self, key, default=None, type=None):
        try:
            v = self[key]
        except KeyError:
            return default
        return _typed(v, type, default)

    def getlist(self, key, type=None):
        if key not in self:
            return []
        v = self[key]
        return _converted(list(v) if isinstance(v, list) else [v], type)


class Args(dict):
    """Query/form parameters: maps a name to its first value (like werkzeug's MultiDict); getlist() gives all."""

    __slots__ = ("_lists",)

    def __init__(self, pairs=()):
        dict.__init__(self)
        self._lists = {}
        for k, v in pairs:
            if k in self._lists:
                self._lists[k].append(v)
            else:
                self._lists[k] = [v]
                dict.__setitem__(self, k, v)

    def get(self, key, default=None, type=None):
        if key not in self:
            return default
        return _typed(dict.__getitem__(self, key), type, default)

    def getlist(self, key, type=None):
        return _converted(list(self._lists.get(key, ())), type)

    def lists(self):
        return [(k, list(v)) for k, v in self._lists.items()]

    def items(self, multi=False):
        if multi:
            return [(k, v) for k, vs in self._lists.items() for v in vs]
        return dict.items(self)

    def to_dict(self, flat=True):
        if flat:
            return dict(self)
        return {k: list(v) for k, v in self._lists.items()}


class FileStorage(object):
    """One uploaded file of a multipart/form-data body (the parts of werkzeug's FileStorage that scripts use)."""

    def __init__(self, data, filename=None, name=None, content_type=None):
        self.filename = filename
        self.name = name
        self.content_type = content_type
        self.mimetype = (content_type or "").split(";", 1)[0].strip().lower()
        self.stream = io.BytesIO(data)

    def read(self, *args):
        return self.stream.read(*args)

    def save(self, dst):
        if isinstance(dst, (str, bytes)) or hasattr(dst, "__fspath__"):
            with open(dst, "wb") as f:
                f.write(self.stream.getvalue())
        else:
            dst.write(self.stream.getvalue())

    def __repr__(self):
        return "<FileStorage %r (%r)>" % (self.filename, self.content_type)


class Request(object):
    """The raw request given to a @rawhttp run(): the flask/werkzeug Request attributes classic scripts use."""

    __slots__ = ("method", "path", "query_string", "headers", "_body", "_args", "_form", "_files", "_json", "remote_addr")

    def __init__(self, method="GET", path="/score", query="", headers=None, body=b"", remote_addr=None):
        if isinstance(method, dict) and "REQUEST_METHOD" in method:
            # A WSGI environ (e.g. from werkzeug's EnvironBuilder in a user's unit test).
            env = method
            method = env.get("REQUEST_METHOD", "GET")
            path = env.get("PATH_INFO", "/") or "/"
            query = env.get("QUERY_STRING", "")
            h = {}
            for k, v in env.items():
                if k.startswith("HTTP_"):
                    h[k[5:].replace("_", "-")] = v
            if env.get("CONTENT_TYPE"):
                h["content-type"] = env["CONTENT_TYPE"]
            if env.get("CONTENT_LENGTH"):
                h["content-length"] = env["CONTENT_LENGTH"]
            headers = h
            stream = env.get("wsgi.input")
            n = int(env.get("CONTENT_LENGTH") or 0)
            body = stream.read(n) if (stream is not None and n) else b""
            remote_addr = env.get("REMOTE_ADDR")
        self.method = method.upper()
        self.path = path
        self.query_string = query.encode("latin-1") if isinstance(query, str) else bytes(query or b"")
        self.headers = headers if isinstance(headers, Headers) else Headers._from_wire(headers)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self._body = bytes(body)
        self._args = None
        self._form = None
        self._files = None
        self._json = _UNSET
        self.remote_addr = remote_addr

    # --- where ---------------------------------------------------------------------------------------------
    @property
    def full_path(self):
        # werkzeug always includes the "?", even with no query string.
        return self.path + "?" + self.query_string.decode("latin-1")

    @property
    def host(self):
        return self.headers.get("Host", "localhost")

    @property
    def scheme(self):
        return self.headers.get("X-Forwarded-Proto", "http")

    @property
    def host_url(self):
        return "%s://%s/" % (self.scheme, self.host)

    @property
    def base_url(self):
        return "%s://%s%s" % (self.scheme, self.host, self.path)

    @property
    def url(self):
        qs = self.query_string.decode("latin-1")
        return self.base_url + ("?" + qs if qs else "")

    @property
    def args(self):
        if self._args is None:
            self._args = Args(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True))
        return self._args

    # --- body ------------------------------------------------------------------------------------------------
    @property
    def content_type(self):
        return self.headers.get("Content-Type")

    @property
    def mimetype(self):
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def mimetype_params(self):
        out = {}
        for part in (self.content_type or "").split(";")[1:]:
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip().lower()] = v.strip().strip('"')
        return out

    @property
    def content_length(self):
        return len(self._body)

    @property
    def is_json(self):
        mt = self.mimetype
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    def get_data(self, cache=True, as_text=False, parse_form_data=False):
        if as_text:
            return self._body.decode("utf-8", "replace")
        return self._body

    @property
    def data(self):
        return self._body

    @property
    def stream(self):
        return io.BytesIO(self._body)

    input_stream = stream

    def get_json(self, force=False, silent=False, cache=True):
        # Lenient on the content type (parses whatever was sent); a body that is not JSON raises unless silent.
        if self._json is not _UNSET:
            return self._json
        try:
            if not self._body:
                raise ValueError("the request body is empty, not JSON")
            value = json.loads(self._body.decode("utf-8"))
        except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
            if silent:
                return None
            raise
        self._json = value
        return value

    @property
    def json(self):
        return self.get_json()

    @property
    def form(self):
        if self._form is None:
            self._parse_form()
        return self._form

    @property
    def files(self):
        if self._files is None:
            self._parse_form()
        return self._files

    @property
    def values(self):
        pairs = list(self.args.items(multi=True)) + list(self.form.items(multi=True))
        return Args(pairs)

    @property
    def cookies(self):
        from http.cookies import SimpleCookie

        c = SimpleCookie()
        try:
            c.load(self.headers.get("Cookie", ""))
        except Exception:
            pass
        return {k: m.value for k, m in c.items()}

    def _parse_form(self):
        mt = self.mimetype
        fields, files = [], []
        if mt == "application/x-www-form-urlencoded":
            fields = parse_qsl(self._body.decode("utf-8", "replace"), keep_blank_values=True)
        elif mt.startswith("multipart/"):
            fields, files = _parse_multipart(self.content_type, self._body)
        self._form = Args(fields)
        self._files = Args(files)

    def __repr__(self):
        return "<Request %s %r>" % (self.method, self.full_path)


_UNSET = object()


def _parse_multipart(content_type, body):
    # The email parser understands MIME multipart; cgi is deprecated and werkzeug is not a dependency.
    from email.parser import BytesParser
    from email import policy

    msg = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    fields, files = [], []
    if not msg.is_multipart():
        return fields, files
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files.append((name, FileStorage(payload, unquote(filename), name, part.get("Content-Type"))))
        else:
            charset = part.get_content_charset() or "utf-8"
            fields.append((name, payload.decode(charset, "replace")))
    return fields, files


def _content_type_of(headers):
    for k in headers:
        if isinstance(k, str) and k.lower() == "content-type":
            return k
    return None


class Response(object):
    """A run() result with its own status, headers and body.

    berth.Response(body=None, status=200, headers=None, content_type=None, json_str=False)
    body: bytes/bytearray are sent as they are (default content type application/octet-stream); str is sent as
    UTF-8 (text/plain; charset=utf-8); None is an empty body; anything else is JSON-encoded (application/json),
    as is a str when json_str=True. A Content-Type in `headers` or `content_type=` overrides the default.
    """

    _berth_response = True  # the runner's marker, so a shadowing copy of this class still works

    def __init__(self, body=None, status=200, headers=None, content_type=None, json_str=False, status_code=None):
        self.status_code = int(status_code if status_code is not None else status)
        self.headers = dict(headers) if headers else {}
        if json_str:
            data, default_ct = encode_json(body).encode("utf-8"), "application/json"
        elif body is None:
            data, default_ct = b"", None
        elif isinstance(body, (bytes, bytearray, memoryview)):
            data, default_ct = bytes(body), "application/octet-stream"
        elif isinstance(body, str):
            data, default_ct = body.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            data, default_ct = encode_json(body).encode("utf-8"), "application/json"
        self._set(data, content_type or default_ct)

    def _set(self, data, content_type):
        self._data = data
        if content_type and _content_type_of(self.headers) is None:
            self.headers["Content-Type"] = content_type

    # flask.Response-like accessors, for scripts (and their tests) that inspect what they return.
    @property
    def status(self):
        return self.status_code

    @property
    def data(self):
        return self._data

    def get_data(self, as_text=False):
        return self._data.decode("utf-8", "replace") if as_text else self._data

    def set_data(self, value):
        self._data = value.encode("utf-8") if isinstance(value, str) else bytes(value)

    @property
    def content_type(self):
        k = _content_type_of(self.headers)
        return self.headers[k] if k else None

    @property
    def mimetype(self):
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    def _berth_payload(self):
        """(status, headers with lower-case names, body bytes) for the reply frame."""
        out = {}
        for k, v in self.headers.items():
            if isinstance(v, (list, tuple)):
                v = [str(x) for x in v]
            elif isinstance(v, bool):
                v = "true" if v else "false"
            else:
                v = str(v)
            out[str(k).lower()] = v
        return self.status_code, out, self._data

    def __repr__(self):
        return "<%s %d %r>" % (type(self).__name__, self.status_code, self.content_type)


def _converted(values, type):
    """getlist() semantics shared by headers and args: values `type` cannot convert are left out, as werkzeug does."""
    if type is None:
        return values
    out = []
    for x in values:
        try:
            out.append(type(x))
        except (ValueError, TypeError):
            pass
    return out


def _typed(value, type, default):
    """get() semantics shared by headers and args: the value converted by `type`, or `default` when it cannot be."""
    if type is None:
        return value
    try:
        return type(value)
    except (ValueError, TypeError):
        return default
