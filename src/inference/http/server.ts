// The inference HTTP server: routes, body limits and request ids; the gateway's scoring channel shares its port.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ServeSettings } from '../settings.js';
import type { WorkerPool } from '../pool/worker-pool.js';
import type { InferenceMetrics } from '../metrics.js';
import { loadSwagger } from '../swagger.js';
import { readRequestIds } from './request-ids.js';
import { Responder, type Exchange, type HeaderList } from './respond.js';
import { CLOSE, Scoring, type HeaderSource } from './scoring.js';
import { answerTimeouts, requestTimeoutOptions } from './body-timeout.js';
import { REPLICA_KEY_HEADER } from '../../core/replica-key.js';
import { rawHeader } from '../../core/raw-headers.js';
import { sameSecret } from '../../core/secrets.js';
import { attachScoreChannel } from '../channel/channel-server.js';
import type { StartupPhase } from '../startup-phase.js';
import type { EntryInfo } from '../runtime/types.js';
import { OipRoutes } from '../oip/routes.js';

export interface InferenceServerDeps {
  readonly settings: ServeSettings;
  readonly pool: WorkerPool;
  readonly metrics: InferenceMetrics;
  readonly log: Logger;
  /** True once SIGTERM arrived: new requests are refused while in-flight ones finish. */
  readonly isDraining: () => boolean;
  /** Where start-up is (importing, init, warming): /ready says it while the server is not ready. */
  readonly startup?: StartupPhase;
  /** False until start-up is done (workers ready, warm-up answered); without it, ready means every worker ready. */
  readonly isServing?: () => boolean;
  /** What the workers learnt of the entry script (infer(), berth_signature), for the Open Inference Protocol routes. */
  readonly entryInfo?: () => EntryInfo | undefined;
}

const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/': ['GET', 'HEAD'],
  '/ready': ['GET', 'HEAD'],
  '/score': ['GET', 'POST', 'OPTIONS'],
  '/swagger.json': ['GET'],
  '/metrics': ['GET'],
};
const TEXT = 'text/plain; charset=utf-8';
const NO_IDS: readonly string[] = [];
const JSON_TYPE = 'application/json';

/** A request from an HTTP client, answered on its own response. */
class HttpExchange implements Exchange {
  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly method: string,
    readonly path: string,
    readonly started: number,
    readonly requestId: string,
    readonly echo: readonly string[],
  ) {}

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  reply(status: number, headers: HeaderList, body: Buffer | string): void {
    this.res.writeHead(status, headers);
    this.res.end(body);
  }
}

/** The request's headers as the entry script sees them: the gateway's replica key is the server's business, not run()'s. */
class WithoutReplicaKey implements HeaderSource {
  constructor(private readonly req: IncomingMessage) {}

  get headers(): IncomingHttpHeaders {
    const { [REPLICA_KEY_HEADER]: _key, ...rest } = this.req.headers;
    return rest;
  }
}

export function createInferenceServer(deps: InferenceServerDeps): Server {
  const { settings, pool, metrics, log } = deps;
  const { replicaKey } = settings;
  const responder = new Responder(log, settings.corsOrigins, (status, seconds) => metrics.observeRequest(status, seconds));
  const scoring = new Scoring({ settings, pool, responder, log, isDraining: deps.isDraining });
  const oip = new OipRoutes({
    settings, pool, responder, log, isDraining: deps.isDraining,
    isReady: () => pool.allReady && (deps.isServing?.() ?? true),
    entryInfo: deps.entryInfo ?? (() => undefined),
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    const ids = readRequestIds(req.rawHeaders);
    if ('tooLong' in ids) return responder.sendError(new HttpExchange(req, res, method, path, started, '', NO_IDS), 'REQUEST_ID_TOO_LONG', { header: ids.tooLong });
    const x = new HttpExchange(req, res, method, path, started, ids.requestId, ids.echo);
    // The Open Inference Protocol v2 routes (docs/oip-v2.md).
    if (path === '/v2' || path.startsWith('/v2/')) return oip.handle(x, req, ids.contentLength);
    const allowed = ROUTES[path];
    if (allowed === undefined) return responder.sendError(x, 'NOT_FOUND', { method, path });
    if (!allowed.includes(method)) return responder.sendError(x, 'METHOD_NOT_ALLOWED', { method, path, allowed: allowed.join(', ') }, ['allow', allowed.join(', ')]);

    switch (path) {
      case '/': return responder.send(x, 200, TEXT, 'Healthy');
      case '/ready': {
        const workers = pool.phases;
        const ready = pool.allReady && (deps.isServing?.() ?? true);
        const startup = deps.startup?.report(workers);
        return responder.send(x, ready ? 200 : 503, JSON_TYPE, JSON.stringify({
          ready, ...(startup === undefined ? {} : startup), queued: pool.queued,
          workers: workers.map((w) => ({ id: w.id, phase: w.phase, busy: w.busy, in_flight: w.inFlight })),
        }));
      }
      case '/swagger.json': return responder.send(x, 200, JSON_TYPE, JSON.stringify(loadSwagger(settings.entryScript, new URLSearchParams(query).get('version'))));
      case '/metrics':
        void metrics.registry.metrics().then((text) => responder.send(x, 200, metrics.registry.contentType, text));
        return;
      default:
        if (replicaKey !== undefined && !sameSecret(rawHeader(req, REPLICA_KEY_HEADER), replicaKey)) return responder.sendError(x, 'REPLICA_UNAUTHORIZED', {}, CLOSE);
        if (method === 'OPTIONS') return responder.send(x, 200, TEXT, '', ['allow', allowed.join(', ')]);
        return score(x, query, ids.contentLength);
    }
  }

  /** Collects the body, within the size limit, then runs it. */
  function score(x: HttpExchange, query: string, declared: number): void {
    if (scoring.refuse(x, declared)) return;
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    x.req.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > scoring.maxBytes) {
        rejected = true;
        return responder.sendError(x, 'BODY_TOO_LARGE', { limit: scoring.maxBytes }, CLOSE);
      }
      chunks.push(chunk);
    });
    x.req.on('end', () => {
      if (!rejected) scoring.run(x, replicaKey === undefined ? x.req : new WithoutReplicaKey(x.req), query, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  }

  // Idle keep-alive connections close after 65 s (longer than a load balancer's usual 60 s, so it never reuses a closed one).
  const server = createServer({ keepAliveTimeout: 65_000, ...requestTimeoutOptions(settings.bodyTimeoutS) }, handle);
  answerTimeouts(server, settings.bodyTimeoutS, log);
  attachScoreChannel(server, { scoring, responder, log, replicaKey: settings.replicaKey, isDraining: deps.isDraining });
  return server;
}
