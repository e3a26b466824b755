// Coded errors of the control plane: its store and API, the local target, services and operations, scoring, rollouts, environments.
import type { ErrorEntry } from '../entry.js';

export const controlErrors = {
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
} as const satisfies Record<string, ErrorEntry>;
