# berth shim of azureml.contrib.services.aml_response: AMLResponse with the classic constructor and content types.
from berth._http import Response, encode_json

__all__ = ["AMLResponse"]


class AMLResponse(Response):
    """AMLResponse(message, status_code, response_headers=None, json_str=False), as in the classic server.

    json_str=True: the message is JSON-encoded, application/json. message None: body "{}", application/json.
    str/bytes message: sent as is, text/html; charset=utf-8 (flask's default) unless the headers give a
    Content-Type. Any other message (dict, list, ...) is JSON-encoded (the classic server produced garbage).
    """

    def __init__(self, message, status_code=200, response_headers=None, json_str=False,
                 run_function_failed=False, headers=None):
        self.status_code = int(status_code)
        self.headers = dict(response_headers or headers or {})
        self.run_function_failed = run_function_failed
        if message is None:
            data, ct = b"{}", "application/json"
        elif json_str:
            data, ct = encode_json(message).encode("utf-8"), "application/json"
        elif isinstance(message, str):
            data, ct = message.encode("utf-8"), "text/html; charset=utf-8"
        elif isinstance(message, (bytes, bytearray, memoryview)):
            data, ct = bytes(message), "text/html; charset=utf-8"
        else:
            data, ct = encode_json(message).encode("utf-8"), "application/json"
        # A Content-Type in the headers wins (the classic server sent two Content-Type headers then).
        self._set(data, ct)
