// Coded errors of berth serve: usage and settings, requests, the Open Inference Protocol, the entry script's start-up.
import type { ErrorEntry } from '../entry.js';

export const serveErrors = {
  // --- input and usage --------------------------------------------------------------------------
  INVALID_ARGUMENT: {
    status: 400,
    message: '{detail}',
    fix: 'Correct the value named in the message and run the command again.',
  },
  INVALID_SETTINGS: {
    status: 400,
    message: 'invalid setting {field}: {detail}',
    fix: 'Correct the named flag or environment variable; `berth <command> --help` lists them.',
  },
  // --- inference server requests ----------------------------------------------------------------
  NOT_FOUND: {
    status: 404,
    message: 'no route for {method} {path}',
    fix: 'Score with POST /score (or GET /score); GET / is liveness, GET /ready readiness.',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    message: 'method {method} is not allowed on {path}',
    fix: 'Use one of: {allowed}.',
  },
  BODY_NOT_UTF8: {
    status: 400,
    message: 'the request body is not valid UTF-8 text',
    fix: 'Send UTF-8 text (for example JSON), or decorate run() with @rawhttp to receive raw bytes.',
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'the request body is larger than the limit of {limit} bytes',
    fix: 'Send a smaller body, or raise the limit with --max-request-size-mb.',
  },
  REQUEST_BODY_TIMEOUT: {
    status: 408,
    message: 'the request body did not arrive within {timeoutS} s',
    fix: 'Send the whole body promptly (a slow or stalled upload is cut off so it cannot hold the service), or raise the body timeout ({flag}).',
  },
  REPLICA_UNAUTHORIZED: {
    status: 401,
    message: 'this replica takes scoring requests only from its control plane\'s gateway',
    fix: 'Score through the gateway: POST /api/v1/service/NAME/score with the service\'s key (berth service run NAME).',
  },
  REQUEST_ID_TOO_LONG: {
    status: 431,
    message: 'request header {header} is longer than 100 characters',
    fix: 'Send request ids of at most 100 characters.',
  },
  RUN_FAILED: {
    status: 500,
    message: 'run() raised in the entry script; see the service logs (request id {requestId})',
    fix: 'Read the traceback logged with this request id, fix run(), and redeploy. `--debug` puts the exception in the response.',
  },
  SCORING_TIMEOUT: {
    status: 504,
    message: 'scoring timeout after {timeoutMs} ms; the worker is recycled',
    fix: 'Make run() faster, or raise the scoring timeout (--scoring-timeout-ms / scoring_timeout_ms; for a streaming run() whose first chunk is late, --first-chunk-timeout-ms / stream_first_chunk_timeout_ms).',
  },
  STREAM_CHUNK_TIMEOUT: {
    status: 504,
    message: 'the stream stopped: run() yielded no chunk for {timeoutMs} ms; the worker is recycled',
    fix: 'Yield chunks more often, or raise the time allowed between chunks (--chunk-timeout-ms / stream_chunk_timeout_ms).',
  },
  OVERLOADED: {
    status: 503,
    message: 'overloaded: no worker became free within {waitMs} ms',
    fix: 'Retry after the Retry-After delay; add workers or replicas, or raise the queue wait limit.',
  },
  WORKER_DIED: {
    status: 502,
    message: 'the worker died during the request ({reason}); it is restarting',
    fix: 'Look in the server log for the worker\'s last output: a crash in native code, an exit call (os._exit(), process.exit()), an exception thrown outside run() in a JS worker thread, or an out-of-memory kill.',
  },
  NOT_READY: {
    status: 503,
    message: 'no worker is ready yet (init() is still running or restarting)',
    fix: 'Wait until GET /ready answers 200, then retry.',
  },
  SHUTTING_DOWN: {
    status: 503,
    message: 'the server is shutting down',
    fix: 'Retry against another replica or after the server restarts.',
  },
  // --- Open Inference Protocol v2 (docs/oip-v2.md) -----------------------------------------------
  OIP_BAD_REQUEST: {
    status: 400,
    message: 'invalid inference request: {detail}',
    fix: 'Send the Open Inference Protocol v2 JSON: {"inputs": [{"name", "shape", "datatype", "data"}]}, each input\'s data holding as many elements as its shape and of its datatype (docs/oip-v2.md); GET /v2/models/NAME lists what the model declares.',
  },
  OIP_MODEL_NOT_FOUND: {
    status: 404,
    message: 'no model {model} here: this server serves {served}',
    fix: 'Use the model name GET /v2/models/NAME answers for: the service name behind the gateway, else berth serve --model-name (default: the entry script\'s file name without its extension).',
  },
  OIP_SIGNATURE_INVALID: {
    status: 500,
    message: 'the entry script\'s berth_signature cannot be used: {detail}',
    fix: 'Declare berth_signature = {"inputs": [{"name": ..., "datatype": "FP32", "shape": [-1, 4]}], "outputs": [...]} with plain strings and ints (docs/oip-v2.md), then restart.',
  },
  INFER_FAILED: {
    status: 500,
    message: 'infer() raised in the entry script; see the service logs (request id {requestId})',
    fix: 'Read the traceback logged with this request id, fix infer(), and redeploy. `--debug` puts the exception in the response.',
  },
  OIP_BAD_OUTPUT: {
    status: 500,
    message: 'the entry script\'s result cannot be sent as output tensors: {detail}',
    fix: 'Return from infer() a dict of output name to array (numpy array or rectangular list), or a list of {"name", "data", "datatype"?, "shape"?} dicts whose data fits their shape and datatype (docs/oip-v2.md).',
  },
  // --- entry script start-up --------------------------------------------------------------------
  ENTRY_SCRIPT_NOT_FOUND: {
    status: 400,
    message: 'entry script {path} does not exist',
    fix: 'Pass the path of your score.py (or .js/.ts module) with --entry-script.',
  },
  ENTRY_SCRIPT_IMPORT_FAILED: {
    status: 500,
    message: 'the entry script {file} failed to import: {exception}',
    fix: 'Fix the error at {file}:{line}; a missing package means the environment lacks it.',
  },
  ENTRY_SCRIPT_MISSING_FUNCTION: {
    status: 500,
    message: 'the entry script {file} does not define {missing}()',
    fix: 'Define both init() and run(input_data) at the top level of the entry script.',
  },
  INIT_FAILED: {
    status: 500,
    message: 'init() raised {exception} at {file}:{line}',
    fix: 'Read the traceback and the model directory listing above; fix init() (often a model path) and start again.',
  },
  WARMUP_FAILED: {
    status: 500,
    message: 'the warm-up request failed: {detail}',
    fix: 'Make the service\'s warm-up request one run() answers with 2xx (the same input as a real request), or remove it; the server becomes ready only after it.',
  },
  INIT_TIMEOUT: {
    status: 500,
    message: 'init() did not finish within {timeoutS} s',
    fix: 'Make init() faster or raise --init-timeout-s.',
  },
  PYTHON_NOT_FOUND: {
    status: 500,
    message: 'cannot start the Python interpreter {python}: {detail}',
    fix: 'Install Python 3.8+ or pass its path with --python.',
  },
  PORT_IN_USE: {
    status: 409,
    message: 'cannot listen on {host}:{port}: the port is in use',
    fix: 'Stop whatever listens there, or pick another port with --port.',
  },
} as const satisfies Record<string, ErrorEntry>;
