// The Open Inference Protocol v2 routes of `berth serve`: health, server and model metadata, readiness, and infer (to infer() or run()).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { BerthError, type ErrorCode, type ErrorParams } from '../../errors/catalogue.js';
import { toHttpError } from '../../errors/http.js';
import { version as berthVersion } from '../../core/version.js';
import { REPLICA_KEY_HEADER } from '../../core/replica-key.js';
import { rawHeader } from '../../core/raw-headers.js';
import { sameSecret } from '../../core/secrets.js';
import { mebibytes } from '../../core/limits.js';
import type { DispatchResult, WorkerPool } from '../pool/worker-pool.js';
import type { ServeSettings } from '../settings.js';
import type { EntryInfo, ScoreRequest } from '../runtime/types.js';
import type { Exchange, HeaderList, Responder } from '../http/respond.js';
import { checkAgainstSignature, modelMetadata, parseSignature, type ModelIdentity, type Signature } from './model.js';
import { parseInferRequest, TensorError, type InferRequest, type Tensor } from './tensor.js';
import { inferResponse, outputFromRun, outputsFromWorker, OutputError, runInputBody, workerInferBody } from './mapping.js';
import { BinaryInputs, binaryOutputNames, encodeBinaryResponse, HEADER_LENGTH, splitBody } from './binary.js';
import { matchOipPath, type OipRoute } from './paths.js';

export interface OipDeps {
  readonly settings: ServeSettings;
  readonly pool: WorkerPool;
  readonly responder: Responder;
  readonly log: Logger;
  readonly isDraining: () => boolean;
  /** Every worker finished init() and the warm-up (if any) was answered. */
  readonly isReady: () => boolean;
  /** What the workers learnt of the entry script; undefined until one is ready. */
  readonly entryInfo: () => EntryInfo | undefined;
}

const JSON_TYPE = 'application/json';
const CLOSE: HeaderList = ['connection', 'close'];
/** The protocol extensions berth implements, for the server metadata. */
const EXTENSIONS = ['binary_tensor_data'];

export class OipRoutes {
  private readonly model: ModelIdentity;
  private readonly maxBytes: number;

  constructor(private readonly d: OipDeps) {
    const { settings } = d;
    this.model = { name: settings.modelName, runtime: settings.runtime, ...(settings.modelVersion === undefined ? {} : { version: settings.modelVersion }) };
    this.maxBytes = mebibytes(settings.maxRequestSizeMb);
  }

  /** Answers a request whose path starts with /v2. */
  handle(x: Exchange, req: IncomingMessage, declaredBytes: number): void {
    const route = matchOipPath(x.path);
    if (route === undefined) return this.error(x, 'NOT_FOUND', { method: x.method, path: x.path });
    const allowed = route.kind === 'infer' ? ['POST'] : ['GET', 'HEAD'];
    if (!allowed.includes(x.method)) return this.error(x, 'METHOD_NOT_ALLOWED', { method: x.method, path: x.path, allowed: allowed.join(', ') }, ['allow', allowed.join(', ')]);
    if ('model' in route && !this.serves(route)) return this.notFound(x, route);
    const ready = this.d.isReady();
    switch (route.kind) {
      case 'live': return this.json(x, 200, { live: true });
      case 'ready': return ready ? this.json(x, 200, { ready: true }) : this.notReady(x, { ready: false });
      case 'server': return this.json(x, 200, { name: 'berth', version: berthVersion, extensions: EXTENSIONS });
      case 'model-ready': return ready ? this.json(x, 200, { name: this.model.name, ready: true }) : this.notReady(x, { name: this.model.name, ready: false });
      case 'model': {
        const signature = this.signature(x);
        if (signature !== undefined) this.json(x, 200, modelMetadata(this.model, signature));
        return;
      }
      case 'infer': return this.receive(x, req, declaredBytes);
    }
  }

  private serves(route: Extract<OipRoute, { model: string }>): boolean {
    return route.model === this.model.name && (route.version === undefined || route.version === this.model.version);
  }

  private notFound(x: Exchange, route: Extract<OipRoute, { model: string }>): void {
    const { name, version } = this.model;
    const asked = route.version === undefined ? `"${route.model}"` : `"${route.model}" version "${route.version}"`;
    this.error(x, 'OIP_MODEL_NOT_FOUND', { model: asked, served: version === undefined ? `"${name}" (without versions)` : `"${name}" version "${version}"` });
  }

  /** The declared signature, or undefined once it answered for itself (not ready: 503; malformed: 500). */
  private signature(x: Exchange): Signature | undefined {
    const info = this.d.entryInfo();
    if (info === undefined || !this.d.isReady()) {
      this.notReady(x, {});
      return undefined;
    }
    const parsed = parseSignature(info);
    if (parsed.ok) return parsed.signature;
    this.d.log.error({ detail: parsed.detail }, `berth_signature cannot be used: ${parsed.detail}`);
    this.error(x, 'OIP_SIGNATURE_INVALID', { detail: parsed.detail });
    return undefined;
  }

  /** Collects the body within the size limit (as /score does), then infers. */
  private receive(x: Exchange, req: IncomingMessage, declaredBytes: number): void {
    const { replicaKey } = this.d.settings;
    if (replicaKey !== undefined && !sameSecret(rawHeader(req, REPLICA_KEY_HEADER), replicaKey)) return this.error(x, 'REPLICA_UNAUTHORIZED', {}, CLOSE);
    if (this.d.isDraining()) return this.error(x, 'SHUTTING_DOWN', {}, CLOSE);
    if (declaredBytes > this.maxBytes) return this.error(x, 'BODY_TOO_LARGE', { limit: this.maxBytes }, CLOSE);
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    req.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > this.maxBytes) {
        rejected = true;
        return this.error(x, 'BODY_TOO_LARGE', { limit: this.maxBytes }, CLOSE);
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!rejected) this.infer(x, req, Buffer.concat(chunks, size));
    });
  }

  private infer(x: Exchange, req: IncomingMessage, body: Buffer): void {
    let request: InferRequest;
    let rawBytes: ReadonlySet<string> = new Set();
    try {
      const headerLength = rawHeader(req, HEADER_LENGTH);
      const { json, binary } = headerLength === undefined ? { json: body, binary: undefined } : splitBody(body, headerLength);
      let parsed: unknown;
      try {
        parsed = JSON.parse(json.toString('utf8'));
      } catch (err) {
        throw new TensorError(`the body is not JSON: ${(err as Error).message}`);
      }
      const fromBinary = binary === undefined ? undefined : new BinaryInputs(binary);
      request = parseInferRequest(parsed, fromBinary?.read);
      fromBinary?.finish();
      if (fromBinary !== undefined) rawBytes = fromBinary.rawBytes;
    } catch (err) {
      if (err instanceof TensorError) return this.error(x, 'OIP_BAD_REQUEST', { detail: err.detail });
      throw err;
    }
    const info = this.d.entryInfo();
    if (info === undefined || !this.d.isReady()) return this.notReady(x, {});
    const signature = this.signature(x);
    if (signature === undefined) return;
    let scoring: ScoreRequest;
    try {
      checkAgainstSignature(request, signature);
      const workerBody = info.infer ? workerInferBody(request, x.requestId, rawBytes) : runInputBody(withTextBytes(request, rawBytes));
      scoring = new OipScoreRequest(req, x.requestId, x.path, Buffer.from(workerBody), info.infer);
    } catch (err) {
      if (err instanceof TensorError) return this.error(x, 'OIP_BAD_REQUEST', { detail: err.detail });
      throw err;
    }
    this.d.pool.dispatch(scoring, (result) => this.answer(x, request, info.infer, result, signature));
  }

  private answer(x: Exchange, request: InferRequest, viaInfer: boolean, result: DispatchResult, signature: Signature): void {
    const { log } = this.d;
    if (result.kind !== 'ok') return this.failed(x, viaInfer, result);
    let outputs: Tensor[];
    try {
      if (viaInfer) outputs = outputsFromWorker(result.body, signature.outputs);
      else if (result.status < 200 || result.status > 299) {
        const text = (typeof result.body === 'string' ? result.body : result.body.toString('utf8')).slice(0, 2000);
        return this.json(x, result.status, { error: `run() answered ${result.status}: ${text}`, request_id: x.requestId });
      } else outputs = [outputFromRun(String(result.headers['content-type'] ?? JSON_TYPE), result.body)];
      const response = inferResponse(this.model, request.id ?? x.requestId, outputs, request.outputs);
      const binary = encodeBinaryResponse(response, binaryOutputNames(request));
      if (binary === undefined) return this.json(x, 200, response);
      return this.d.responder.send(x, 200, 'application/octet-stream', binary.body, [HEADER_LENGTH, String(binary.headerLength)]);
    } catch (err) {
      if (err instanceof TensorError) return this.error(x, 'OIP_BAD_REQUEST', { detail: err.detail });
      if (err instanceof OutputError) {
        log.error({ request_id: x.requestId, detail: err.detail }, `infer output cannot be sent: ${err.detail}`);
        return this.error(x, 'OIP_BAD_OUTPUT', { detail: err.detail });
      }
      throw err;
    }
  }

  private failed(x: Exchange, viaInfer: boolean, result: Exclude<DispatchResult, { kind: 'ok' }>): void {
    const { log, settings } = this.d;
    switch (result.kind) {
      case 'run_error': {
        const fn = viaInfer ? 'infer()' : 'run()';
        log.error({ request_id: x.requestId, worker: result.workerId, exception: result.exception, traceback: result.traceback }, `${fn} raised ${result.exception}: ${result.message}`);
        const debug = settings.debug ? { exception: `${result.exception}: ${result.message}`, traceback: result.traceback } : {};
        return this.error(x, viaInfer ? 'INFER_FAILED' : 'RUN_FAILED', { requestId: x.requestId }, undefined, debug);
      }
      case 'bad_utf8': return this.error(x, 'BODY_NOT_UTF8');
      case 'timeout':
        log.error({ request_id: x.requestId, worker: result.workerId, timeout_ms: result.timeoutMs }, `scoring timeout after ${result.timeoutMs} ms; recycling worker ${result.workerId}`);
        return this.error(x, 'SCORING_TIMEOUT', { timeoutMs: result.timeoutMs });
      case 'worker_died':
        log.error({ request_id: x.requestId, worker: result.workerId, reason: result.reason }, `worker ${result.workerId} died during request ${x.requestId}: ${result.reason}`);
        return this.error(x, 'WORKER_DIED', { reason: `worker ${result.workerId} ${result.reason}` });
      case 'overloaded':
        return result.anyReady
          ? this.error(x, 'OVERLOADED', { waitMs: settings.maxQueueWaitMs }, ['retry-after', '1'])
          : this.error(x, 'NOT_READY', {}, ['retry-after', '1']);
    }
  }

  private json(x: Exchange, status: number, body: unknown): void {
    this.d.responder.send(x, status, JSON_TYPE, x.method === 'HEAD' ? '' : JSON.stringify(body));
  }

  private notReady(x: Exchange, extra: Record<string, unknown>): void {
    this.error(x, 'NOT_READY', {}, ['retry-after', '1'], extra);
  }

  /** The protocol's error body, `{"error": message}`, with berth's code, fix and request id beside it. */
  private error(x: Exchange, code: ErrorCode, params: ErrorParams = {}, extra?: HeaderList, extraBody: Record<string, unknown> = {}): void {
    const { status, body } = toHttpError(new BerthError(code, params), x.requestId || undefined, extraBody);
    const { message, ...rest } = body;
    this.d.responder.send(x, status, JSON_TYPE, x.method === 'HEAD' ? '' : JSON.stringify({ error: message, ...rest }), extra);
  }
}

/** BYTES that arrived as binary data reach run() as text, as JSON would carry them; bytes that are not UTF-8 cannot. */
function withTextBytes(request: InferRequest, rawBytes: ReadonlySet<string>): InferRequest {
  if (rawBytes.size === 0) return request;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    ...request,
    inputs: request.inputs.map((t) => {
      if (!rawBytes.has(t.name)) return t;
      try {
        return { ...t, data: t.data.map((e) => decoder.decode(Buffer.from(String(e), 'base64'))) };
      } catch {
        throw new TensorError(`input "${t.name}": the entry script defines no infer(), and run() takes JSON text, so BYTES elements must be UTF-8`);
      }
    }),
  };
}

/** The request a worker runs: berth's infer body for infer(), or the `{"data": ...}` JSON for run(); headers as the client sent them, less the replica key. */
class OipScoreRequest implements ScoreRequest {
  readonly method = 'POST';
  readonly query = '';

  constructor(
    private readonly req: IncomingMessage,
    readonly requestId: string,
    readonly path: string,
    readonly body: Buffer,
    readonly infer: boolean,
  ) {}

  get headers(): IncomingHttpHeaders {
    const { [REPLICA_KEY_HEADER]: _key, 'content-length': _length, [HEADER_LENGTH]: _binary, ...rest } = this.req.headers;
    return rest;
  }
}
