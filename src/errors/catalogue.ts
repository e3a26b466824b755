// The one catalogue of berth's coded errors: code, HTTP status, message template and fix.

/** Every error berth knows. `message` and `fix` are templates: `{name}` is filled from the error's params. */
export const catalogue = {
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
  // --- control plane ----------------------------------------------------------------------------
  CONTROL_PLANE_UNREACHABLE: {
    status: 503,
    message: 'the berth control plane is not running at {server}',
    fix: 'start it with: berth up',
  },
  CONTROL_PLANE_ALREADY_RUNNING: {
    status: 409,
    message: 'a berth control plane already runs at {server} (pid {pid})',
    fix: 'Use it, or stop it first with: berth down',
  },
  ADMIN_UNAUTHORIZED: {
    status: 401,
    message: 'unauthorized request to the berth admin API: {detail}',
    fix: 'Send Authorization: Bearer <admin token>. The berth CLI sends BERTH_ADMIN_TOKEN if set, else the token file of the control plane running for $BERTH_HOME ($BERTH_HOME/admin-token when berth up generated it).',
  },
  ADMIN_TOKEN_INVALID: {
    status: 400,
    message: 'cannot use the admin token from {source}: {detail}',
    fix: 'Give a token of 16 to 4096 printable characters without spaces (e.g. openssl rand -base64 32) with --admin-token-file FILE or BERTH_ADMIN_TOKEN, or give none off loopback and berth up generates one.',
  },
  ADMIN_TOKEN_REQUIRED: {
    status: 400,
    message: 'the control plane would listen on {host}, off loopback, without an admin token',
    fix: 'Start it with berth up, which generates one off loopback, or give one with --admin-token-file FILE or BERTH_ADMIN_TOKEN.',
  },
  MALFORMED_JSON: {
    status: 400,
    message: 'the request body is not valid JSON: {detail}',
    fix: 'Send a JSON object.',
  },
  VALIDATION_FAILED: {
    status: 400,
    message: 'invalid {field}: {detail}',
    fix: 'Correct the named field and retry.',
  },
  MODEL_NOT_FOUND: {
    status: 404,
    message: 'model {model} not found',
    fix: 'List registered models with: berth model list',
  },
  MODEL_IN_USE: {
    status: 409,
    message: 'model {model} is used by service(s) {services}',
    fix: 'Delete or update those services first.',
  },
  PATH_NOT_FOUND: {
    status: 400,
    message: 'path {path} does not exist',
    fix: 'Pass an existing file or folder with --path.',
  },
  CONTROL_PLANE_REQUEST_FAILED: {
    status: 502,
    message: 'the request to the berth control plane at {server} failed: {detail}',
    fix: 'Check that it still runs (berth status) and run the command again.',
  },
  CONTROL_PLANE_START_FAILED: {
    status: 500,
    message: 'the berth control plane did not start: {detail}',
    fix: 'Read its log at {log}.',
  },
  CONTROL_PLANE_STOP_TIMEOUT: {
    status: 500,
    message: 'the berth control plane (pid {pid}) did not stop within {timeoutS} s',
    fix: 'Wait and run berth down again, or end it with: kill -9 {pid}',
  },
  API_ROUTE_NOT_FOUND: {
    status: 404,
    message: 'no API route for {method} {path}',
    fix: 'The API is described at GET /openapi.json.',
  },
  API_BODY_TOO_LARGE: {
    status: 413,
    message: 'the request body is larger than the API limit of {limit} bytes',
    fix: 'Send a smaller JSON body; model files go through the upload routes (berth model register).',
  },
  UPLOAD_NOT_FOUND: {
    status: 404,
    message: 'upload {upload} not found (it was committed, aborted, expired, or the control plane restarted)',
    fix: 'Run berth model register again.',
  },
  DIGEST_MISMATCH: {
    status: 400,
    message: 'the bytes received for {path} hash to sha256:{actual}, not the announced sha256:{expected}',
    fix: 'The file changed while it was sent, or the transfer was corrupted; run the command again.',
  },
  MODEL_FILE_NOT_FOUND: {
    status: 404,
    message: 'model {model} has no file {path}',
    fix: 'List its files with: berth model show {model}',
  },
  STORAGE_FAILED: {
    status: 507,
    message: 'could not write to the store under {home}: {detail}',
    fix: 'Free disk space (or fix permissions) under {home} and retry.',
  },
  STORE_TOO_NEW: {
    status: 500,
    message: 'the store {path} has schema version {found}; this berth knows versions up to {known}',
    fix: 'Upgrade berth, or use another home with --home / BERTH_HOME.',
  },
  STORE_VERIFY_FAILED: {
    status: 500,
    message: '{count} stored file(s) failed verification, first: {first}',
    fix: 'Delete the affected model versions (berth model delete N:V) and register them again.',
  },
  // --- local target: capacity, scheduling, replicas -------------------------------------------
  INVALID_CAPACITY: {
    status: 400,
    message: 'invalid capacity "{value}": {detail}',
    fix: 'Write it as comma-separated key=value pairs from cpu, memory_gb and gpu, e.g. --capacity cpu=8,memory_gb=32,gpu=1 (any subset).',
  },
  REQUEST_EXCEEDS_CAPACITY: {
    status: 400,
    message: 'a replica requesting {request} can never be placed on this machine ({capacity}): {reason}',
    fix: 'Lower cpu_cores / memory_gb / gpu_cores, or start berth with more capacity (berth up --capacity cpu=…,memory_gb=…,gpu=…).',
  },
  SCHEDULING_TIMEOUT: {
    status: 503,
    message: '{timeoutMessage}. {reason}',
    fix: 'Free resources (delete or scale down other services), lower the resource request, raise the capacity (berth up --capacity) or the scheduling timeout (berth up --schedule-timeout).',
  },
  REPLICA_INIT_FAILED: {
    status: 500,
    message: 'replica {replica} of service {service} crashed during init(): {exception} at {file}:{line} ({outcome})',
    fix: 'Read its start-up output with: berth service logs {service} --replica {replica} --init; fix init() and update the service.',
  },
  REPLICA_OOM_KILLED: {
    status: 500,
    message: 'replica {replica} of service {service} was killed by SIGKILL for out-of-memory (OOMKilled): it used {usageMb} MB, its limit is {limitMb} MB',
    fix: 'Raise memory_gb (and memory_gb_limit when set) for the service, or make the model use less memory.',
  },
  REPLICA_LIVENESS_FAILED: {
    status: 500,
    message: 'replica {replica} of service {service} failed {failures} liveness probes in a row (GET / did not answer within {timeoutS} s) and was restarted',
    fix: 'Find what blocks the server (berth service logs {service} --previous); if it is only slow, loosen the probe (--liveness-timeout-s, --liveness-failure-threshold).',
  },
  DEBUGGER_NOT_AVAILABLE: {
    status: 400,
    message: 'debugpy is not importable by {python}, the interpreter of service {service}, so --inspect cannot start a Python debugger',
    fix: 'Install it: {how}; or run without --inspect.',
  },
  CAPTURED_REQUEST_NOT_FOUND: {
    status: 404,
    message: 'no captured request {requestId} for service {service}',
    fix: 'List the captured ones with: berth service requests {service} --failed. Only requests answered 5xx are kept, only while the service captures them (berth service update {service} --capture-failures), and only the newest capture_max_requests.',
  },
  REPLAY_NOT_POSSIBLE: {
    status: 400,
    message: 'captured request {requestId} of service {service} cannot be replayed: {reason}',
    fix: 'Raise the ring\'s size (berth service update {service} --capture-max-mb N) so such bodies are kept, and replay the next failure; or send the request yourself to berth service debug {service}.',
  },
  REPLAY_FAILED: {
    status: 500,
    message: 'the local run of service {service} ended before it answered the replayed request {requestId}: {detail}',
    fix: 'Read its output above: init() may raise here too (berth service debug {service} shows it without the replay), or the port ({port}) is taken: pick another with --port.',
  },
  MODEL_PATH_NOT_FOUND: {
    status: 500,
    message: 'init() of service {service} cannot find {requested}; mounted: {mounted}',
    fix: 'Attach the model the script asks for (berth service update {service} --model NAME:VERSION), or change the path in init() to a mounted one; berth diagnose {service} shows both.',
  },
  // --- services, operations and scoring through the control plane ----------------------------
  SERVICE_NOT_FOUND: {
    status: 404,
    message: 'service {service} not found',
    fix: 'List services with: berth service list',
  },
  SERVICE_EXISTS: {
    status: 409,
    message: 'service {service} already exists',
    fix: 'Change it with: berth service update {service} ... (or delete it first: berth service delete {service})',
  },
  OPERATION_IN_PROGRESS: {
    status: 409,
    message: 'service {service} is busy: {kind} operation {operation} has been running since {since}',
    fix: 'Wait for it to finish (berth operation show {operation}), then run the command again.',
  },
  OPERATION_NOT_FOUND: {
    status: 404,
    message: 'operation {operation} not found',
    fix: 'Operation ids are printed by berth deploy --no-wait and shown by berth service show.',
  },
  OPERATION_INTERRUPTED: {
    status: 500,
    message: 'operation {operation} on service {service} was interrupted: {detail}',
    fix: 'Check the service with berth service show {service}; it was brought back to its last committed version. Run the change again if it is still needed.',
  },
  REPLICA_START_FAILED: {
    status: 500,
    message: 'replica {replica} of service {service} ended before it was ready: {detail}',
    fix: 'Read its start-up output with: berth service logs {service} --replica {replica} --init',
  },
  REPLICA_NOT_FOUND: {
    status: 404,
    message: 'service {service} has no replica {replica}',
    fix: 'berth service show {service} lists its replicas; --replica takes an id or an index.',
  },
  NO_READY_REPLICA: {
    status: 503,
    message: 'service {service} has no ready replica (state {state})',
    fix: 'See why with: berth service show {service} (and berth service events {service}); retry once a replica is ready.',
  },
  STREAM_BROKEN: {
    status: 502,
    message: 'the stream from replica {replica} broke: {detail}',
    fix: 'The replica may have crashed, been killed or been drained mid-stream; see berth service events for the service, and retry the request.',
  },
  REPLICA_REQUEST_FAILED: {
    status: 502,
    message: 'the request to replica {replica} of service {service} failed: {detail}',
    fix: 'The replica may have crashed or been killed mid-request; see berth service events {service}.',
  },
  SCORING_UNAUTHORIZED: {
    status: 401,
    message: 'unauthorized request to service {service}: {detail}',
    fix: 'Send Authorization: Bearer <credential>: a key from berth service keys {service} (key auth) or a fresh token from berth service token {service} (token auth).',
  },
  SERVICE_OVERLOADED: {
    status: 503,
    message: 'service {service} is overloaded: no replica slot became free within {maxWaitMs} ms ({replicas} ready replica(s), {perReplica} request(s) at once each)',
    fix: 'Retry after the Retry-After delay; allow more replicas (autoscale_max_replicas or num_replicas), more requests per replica (replica_max_concurrent_requests) or a longer wait (max_request_wait_time).',
  },
  // --- rollouts: generations side by side -----------------------------------------------------
  ROLLOUT_IN_PROGRESS: {
    status: 409,
    message: 'service {service} has a rollout under way: generation {candidate} ({state}) beside generation {stable}',
    fix: 'Finish it first: berth service promote {service} (the candidate takes all traffic) or berth service rollback {service}; berth service show {service} shows the split.',
  },
  NO_ROLLOUT: {
    status: 409,
    message: 'service {service} has no rollout {detail}',
    fix: 'Start one with: berth service update {service} ... --traffic PERCENT (or --mirror PERCENT); berth service show {service} shows the generations.',
  },
  TRAFFIC_SPLIT_INVALID: {
    status: 400,
    message: 'invalid traffic split for service {service}: {detail}',
    fix: 'Give every live generation a whole percent, summing to 100, e.g. berth service traffic {service} {example}.',
  },
  GENERATION_NOT_ROUTED: {
    status: 404,
    message: 'service {service} has no generation {generation} in routing (live: {live})',
    fix: 'Name a live generation in the {header} header (a number, or stable / candidate), or leave the header out to follow the split.',
  },
  GUARDRAIL_RULE_INVALID: {
    status: 400,
    message: 'invalid guardrail: {detail}',
    fix: 'Write --rollback-on "error_rate>2%,p99>500ms" (either bound or both; optionally min_requests=N) and --window 60s (5 s to 1 h).',
  },
  CANDIDATE_ROLLED_BACK: {
    status: 409,
    message: 'generation {candidate} of service {service} was rolled back by its guardrail: {detail}',
    fix: 'Read the candidate\'s failures (berth service logs {service}, berth service requests {service} with --capture-failures), fix it, and start a new rollout.',
  },
  CANDIDATE_NOT_READY: {
    status: 503,
    message: 'the candidate generation {candidate} of service {service} has no ready replica; its share goes to generation {stable}',
    fix: 'See why with berth service show {service} and berth service logs {service} --init; roll it back with berth service rollback {service}.',
  },
  AUTH_MODE_MISMATCH: {
    status: 400,
    message: 'service {service} uses {mode} auth: {detail}',
    fix: 'Check the service\'s auth with berth service show {service}; change it with berth service update {service} (--token-auth, --no-auth).',
  },
  // --- environments ---------------------------------------------------------------------------
  ENVIRONMENT_NOT_FOUND: {
    status: 404,
    message: 'environment {environment} not found',
    fix: 'List environments with: berth env list (create one with berth env create --name NAME --file requirements.txt)',
  },
  ENVIRONMENT_SPEC_INVALID: {
    status: 400,
    message: 'invalid environment spec ({file}): {detail}',
    fix: 'Correct the file or flag named in the message and run berth env create again.',
  },
  ENVIRONMENT_BUILD_FAILED: {
    status: 500,
    message: 'building environment {environment} failed: {reason}{tail}\nthe whole build log: berth env logs {environment}',
    fix: 'Fix the requirement the log names and create a new version (berth env create); for a passing problem retry with: berth env build {environment}',
  },
  PACKAGE_INDEX_UNREACHABLE: {
    status: 503,
    message: 'building environment {environment} failed: the package index is unreachable: {indexes}; {reason}{tail}\nthe whole build log: berth env logs {environment}',
    fix: 'Make the index reachable, or name one that is (--index-url / --extra-index-url), or a local wheelhouse (--find-links DIR --no-index) in the spec; then run: berth env build {environment}',
  },
  // --- container images (src/images) -------------------------------------------------------------
  DOCKER_UNAVAILABLE: {
    status: 503,
    message: 'the Docker engine does not answer at {endpoint}: {detail}',
    fix: 'Start it (as root): `containerd &` then `dockerd --containerd=/run/containerd/containerd.sock &`, and wait until `curl --unix-socket /var/run/docker.sock http://localhost/_ping` answers OK; or point DOCKER_HOST at a running engine (podman\'s API service works). Services on the process runtime need no Docker.',
  },
  IMAGE_BUILD_FAILED: {
    status: 500,
    message: 'building image {image} failed at {step}: {reason}{tail}\nthe whole build log: berth image logs {image}',
    fix: 'Fix what the failing step names (a requirement pip cannot find or install, a command that fails on the base image), then deploy again or run berth image build.',
  },
  IMAGE_NOT_FOUND: {
    status: 404,
    message: 'no image {image} is known to this control plane',
    fix: 'List images with: berth image list (a tag, or the first characters of its hash)',
  },
  IMAGE_PULL_FAILED: {
    status: 502,
    message: 'pulling image {image} failed: {detail}',
    fix: 'Check that the registry still has it and that the Docker config has credentials for it (docker login), then retry; berth image list shows what is local.',
  },
  REGISTRY_UNREACHABLE: {
    status: 503,
    message: 'the registry {registry} cannot be reached: {detail}',
    fix: 'Start the registry (or fix --registry HOST:PORT on berth up / berth image build); a plain-HTTP registry other than on 127.0.0.0/8 must be listed in dockerd\'s insecure-registries.',
  },
  REGISTRY_UNAUTHORIZED: {
    status: 401,
    message: 'the registry {registry} refused berth\'s request: {detail}',
    fix: 'Log in so the Docker config has credentials for it (docker login {registry}; $DOCKER_CONFIG/config.json or ~/.docker/config.json, auths entry); credential helpers are not read.',
  },
  REGISTRY_PUSH_FAILED: {
    status: 502,
    message: 'pushing image {image} failed: {detail}',
    fix: 'Check the registry accepts pushes from this user (credentials in the Docker config, repository permissions, free space), then deploy again: the built image is kept and only pushed.',
  },
  DEBOOTSTRAP_NOT_FOUND: {
    status: 500,
    message: 'debootstrap is not installed, so berth cannot make its base image',
    fix: 'Install it: apt-get install {package}; or name a base image with python3 from your registry (--base-image).',
  },
  BASE_IMAGE_BUILD_FAILED: {
    status: 500,
    message: 'making the base image {image} failed at {step}: {reason}{tail}',
    fix: 'Fix what the message names (root is needed; the Debian mirror must be reachable: pass --mirror URL), then run berth image base again; berth image base --force remakes it.',
  },
  QUICKSTART_STEP_FAILED: {
    status: 500,
    message: 'the quickstart step `{command}` failed (its error is printed above)',
    fix: 'Fix what the error above says, then run berth quickstart again: finished steps are not repeated.',
  },
  RUNTIME_UNAVAILABLE: {
    status: 503,
    message: 'replica {replica} asks for the {runtime} runtime, which this control plane does not have',
    fix: 'Start the control plane with the runtime available (for docker: a running Docker daemon; see docs/containers.md), or deploy with runtime process.',
  },
  // --- kubernetes target ------------------------------------------------------------------------
  KUBERNETES_UNREACHABLE: {
    status: 503,
    message: 'the Kubernetes API server at {server} cannot be reached: {detail}',
    fix: 'Check the cluster is up and the kubeconfig (--kubeconfig, --context) names the right server; try: kubectl --request-timeout=5s get --raw /readyz',
  },
  KUBERNETES_UNAUTHORIZED: {
    status: 502,
    message: 'the Kubernetes API server at {server} refused berth\'s credentials: {detail}',
    fix: 'Refresh the kubeconfig\'s credentials (a token or certificate that expired), or pick another context with --context.',
  },
  KUBERNETES_FORBIDDEN: {
    status: 502,
    message: 'the Kubernetes API server at {server} does not allow berth to change {what}: {detail}',
    fix: 'Grant berth\'s account the Role that `berth k8s install` renders (deployments, deployments/scale, services, pods, pods/log, events, secrets in its namespace).',
  },
  KUBERNETES_NAMESPACE_NOT_FOUND: {
    status: 502,
    message: 'namespace {namespace} does not exist on the Kubernetes API server at {server}',
    fix: 'Create it (kubectl create namespace {namespace}) or pick another with berth up --namespace.',
  },
  KUBERNETES_REQUEST_FAILED: {
    status: 502,
    message: 'the Kubernetes API server at {server} refused {what} (HTTP {status}): {detail}',
    fix: 'Read the server\'s reason above; a 422 names the field it rejects. Nothing was left half-applied: run the command again once fixed.',
  },
  KUBERNETES_IMAGE_PULL_FAILED: {
    status: 502,
    message: 'the cluster cannot pull image {image} for {pod}: {reason}: {detail}',
    fix: 'Check that the cluster\'s nodes reach the registry and may pull from it (an image pull secret for a private registry: berth up --registry with credentials in your Docker config).',
  },
  KUBERNETES_MODEL_FETCH_FAILED: {
    status: 502,
    message: 'pod {pod} could not fetch its models from the control plane at {planeUrl}: {detail}',
    fix: 'Pods download models from the control plane: make sure they reach it at that URL (berth up --plane-url), and that its admin token secret exists when it requires one.',
  },
  NO_MANIFESTS: {
    status: 409,
    message: 'service {service} has no Kubernetes manifests here: {why}',
    fix: 'Render manifests from a control plane on the Kubernetes target (berth up --target kubernetes), once the service is deployed there.',
  },
  // --- dashboard ---------------------------------------------------------------------------------
  UI_NOT_BUILT: {
    status: 503,
    message: 'the dashboard is not built: {root} has no index.html',
    fix: 'Build it with npm run build (npm install runs it too), then reload /ui; the rest of the control plane works without it.',
  },
  UI_ASSET_NOT_FOUND: {
    status: 404,
    message: 'the dashboard has no file {path}',
    fix: 'Reload the page: the control plane was upgraded or rebuilt since it was loaded, and serves newer files.',
  },
  DASHBOARD_STREAM_LIMIT: {
    status: 503,
    message: 'the dashboard already has {max} live streams open on this control plane',
    fix: 'Close dashboard tabs you do not need (each open tab holds one stream), then reload.',
  },
  DASHBOARD_STREAM_NOT_FOUND: {
    status: 404,
    message: 'no open dashboard stream {stream}',
    fix: 'The page lost its live stream (the control plane restarted, or the connection dropped); it reconnects by itself, or reload the page.',
  },
  INTERNAL: {
    status: 500,
    message: 'internal error: {detail}',
    fix: 'This is a bug in berth; the log has the details.',
  },
} as const satisfies Record<string, { status: number; message: string; fix: string }>;

export type ErrorCode = keyof typeof catalogue;
export type ErrorParams = Readonly<Record<string, string | number>>;

function fill(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

/** An error with a catalogue code; everything berth raises on purpose is one of these. */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fix: string;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    const entry = catalogue[code];
    super(fill(entry.message, params), options);
    this.name = 'BerthError';
    this.code = code;
    this.status = entry.status;
    this.fix = fill(entry.fix, params);
    this.params = params;
  }
}

export function isBerthError(err: unknown): err is BerthError {
  return err instanceof BerthError;
}

export const errorCodes = Object.keys(catalogue) as ErrorCode[];
