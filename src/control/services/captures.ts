// Failed-request capture: the gateway's hook for 5xx replies, redaction, each service's ring, and the replica's traceback of each request.
import type { DiagLog } from '../../diagnose/types.js';
import type { Logger } from '../../core/logger.js';
import { BerthError } from '../../errors/catalogue.js';
import type { FailedRequest } from '../../gateway/failure-hook.js';
import { redactRequest, RedactionFailed, type RedactedRequest } from './capture-redact.js';
import { CaptureStore, type CapturedRequest, type RingLimits } from './capture-store.js';
import type { ServiceSpec } from './spec.js';

export interface CapturesDeps {
  /** $BERTH_HOME/captures */
  readonly root: string;
  readonly spec: (service: string) => ServiceSpec | undefined;
  readonly generationOf: (service: string, replicaId: string) => number | undefined;
  /** A replica's recent output (current run, then the previous one): run() tracebacks are logged there with the request id. */
  readonly replicaLogs: (service: string, replica: string) => readonly DiagLog[];
  readonly now: () => Date;
  readonly logger: Logger;
}

export interface CaptureSettings {
  readonly enabled: boolean;
  readonly max_requests: number;
  readonly max_mb: number;
  readonly redact: readonly string[];
}

/** Error bodies and tracebacks are cut here: enough to read, never the bulk of the ring. */
const RESPONSE_CHARS = 4096;
const TRACEBACK_CHARS = 64 * 1024;
/** A replica's log line can land a little after its reply: looked for again every LOOKUP_MS, for at most LOOKUP_FOR_MS. */
const LOOKUP_MS = 250;
const LOOKUP_FOR_MS = 15_000;
const MIB = 1024 * 1024;
/** A replica's log line at level error (50) or fatal (60). */
const ERROR_LINE = /^\{"level":[56]0,/;

interface Pending { readonly service: string; readonly requestId: string; readonly replica: string; readonly since: number }

export class Captures {
  readonly store: CaptureStore;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Body bytes handed to a ring and not yet written, per service: a failure storm cannot queue more than a ring holds. */
  private readonly queued = new Map<string, number>();

  constructor(private readonly d: CapturesDeps) {
    this.store = new CaptureStore(d.root);
  }

  /** The gateway's hook: keeps a 5xx request of a service that captures them. Never throws; the work runs after the reply. */
  readonly onFailure = (x: FailedRequest): void => {
    const spec = this.d.spec(x.service);
    if (spec?.capture_failures !== true) return;
    const at = this.d.now().toISOString();
    setImmediate(() => {
      try {
        this.capture(x, spec, at);
      } catch (err) {
        this.d.logger.warn({ err, service: x.service, request_id: x.requestId }, 'could not capture a failed request');
      }
    });
  };

  settings(service: string): CaptureSettings {
    const s = this.d.spec(service);
    if (s === undefined) throw new BerthError('SERVICE_NOT_FOUND', { service });
    return { enabled: s.capture_failures === true, max_requests: s.capture_max_requests ?? 100, max_mb: s.capture_max_mb ?? 10, redact: s.capture_redact ?? [] };
  }

  /** Newest first. */
  async list(service: string, limit: number): Promise<{ requests: CapturedRequest[]; bytes: number }> {
    const s = this.settings(service);
    const ring = this.store.ring(service);
    // Limits lowered by an update apply at once, not only at the next failure.
    await ring.trim({ maxRequests: s.max_requests, maxBytes: Math.floor(s.max_mb * MIB) });
    return { requests: [...ring.list()].reverse().slice(0, limit), bytes: ring.bytes() };
  }

  /** One capture whole, its traceback looked up once more if it was not found yet. */
  async get(service: string, requestId: string): Promise<{ meta: CapturedRequest; body: Buffer | undefined }> {
    this.settings(service);
    const ring = this.store.ring(service);
    const found = await ring.find(requestId);
    if (found === undefined) throw new BerthError('CAPTURED_REQUEST_NOT_FOUND', { service, requestId });
    if (found.meta.error === undefined && found.meta.replica !== undefined) {
      const hit = this.lookup(service, found.meta.replica, new Set([requestId])).get(requestId);
      if (hit !== undefined) {
        await ring.update(requestId, hit);
        return { ...found, meta: { ...found.meta, ...hit } };
      }
    }
    return found;
  }

  /** Removes the captures of services that no longer exist (deleted, also while the control plane was down). */
  async prune(exists: (service: string) => boolean): Promise<void> {
    for (const s of this.store.services()) if (!exists(s)) await this.store.drop(s);
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private capture(x: FailedRequest, spec: ServiceSpec, time: string): void {
    const limits: RingLimits = { maxRequests: spec.capture_max_requests ?? 100, maxBytes: Math.floor((spec.capture_max_mb ?? 10) * MIB) };
    const names = spec.capture_redact ?? [];
    const given = x.body;
    let omitted: string | undefined;
    if (given === undefined) omitted = 'the body was not read';
    else if (given !== null && given.length > limits.maxBytes) omitted = `the body (${given.length} bytes) is larger than the whole ring (capture_max_mb ${spec.capture_max_mb ?? 10})`;
    let parts: RedactedRequest;
    try {
      parts = redactRequest({ headers: x.headers, path: x.path, body: omitted === undefined ? given ?? Buffer.alloc(0) : Buffer.alloc(0) }, names);
    } catch (err) {
      if (!(err instanceof RedactionFailed)) throw err;
      omitted = err.message;
      parts = redactRequest({ headers: x.headers, path: x.path, body: Buffer.alloc(0) }, names);
    }
    const body = omitted === undefined ? parts.body : undefined;
    const queued = this.queued.get(x.service) ?? 0;
    if (queued + (body?.length ?? 0) > limits.maxBytes) {
      this.d.logger.warn({ service: x.service, request_id: x.requestId }, 'failed request not captured: the captures before it are still being written');
      return;
    }
    const generation = x.replica === undefined ? undefined : this.d.generationOf(x.service, x.replica);
    const meta: CapturedRequest = {
      request_id: x.requestId, time, service: x.service,
      ...(generation === undefined ? {} : { generation }),
      ...(x.replica === undefined ? {} : { replica: x.replica }),
      method: x.method, path: parts.path, status: x.status, headers: parts.headers,
      body_bytes: body?.length ?? 0, ...(omitted === undefined ? {} : { body_omitted: omitted }),
      redacted: [...parts.redacted],
      ...(x.response === undefined ? {} : { response: responseText(x.response, names) }),
    };
    this.queued.set(x.service, queued + (body?.length ?? 0));
    const done = (): void => { this.queued.set(x.service, (this.queued.get(x.service) ?? 0) - (body?.length ?? 0)); };
    this.store.ring(x.service).add(meta, body, limits).then(done, (err: unknown) => {
      done();
      this.d.logger.warn({ err, service: x.service, request_id: x.requestId }, 'could not write a captured request');
    });
    if (x.replica !== undefined) this.watch({ service: x.service, requestId: x.requestId, replica: x.replica, since: Date.now() });
  }

  /** Looks for the request's log line until it shows up (the replica writes it around its reply) or LOOKUP_FOR_MS passed. */
  private watch(p: Pending): void {
    this.pending.push(p);
    this.timer ??= setTimeout(() => this.tick(), LOOKUP_MS).unref();
  }

  private tick(): void {
    this.timer = undefined;
    const groups = new Map<string, Pending[]>();
    for (const p of this.pending) {
      const key = `${p.service}\n${p.replica}`;
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    const left: Pending[] = [];
    for (const group of groups.values()) {
      const { service, replica } = group[0]!;
      const found = this.lookup(service, replica, new Set(group.map((p) => p.requestId)));
      for (const p of group) {
        const hit = found.get(p.requestId);
        if (hit !== undefined) void this.store.ring(service).update(p.requestId, hit).catch(() => undefined);
        else if (Date.now() - p.since < LOOKUP_FOR_MS) left.push(p);
      }
    }
    this.pending = left;
    if (left.length > 0) this.timer = setTimeout(() => this.tick(), LOOKUP_MS).unref();
  }

  /** The replica's error line for each request id (the last one when there are several): its message and traceback. */
  private lookup(service: string, replica: string, ids: ReadonlySet<string>): Map<string, { error: string; traceback?: string }> {
    const out = new Map<string, { error: string; traceback?: string }>();
    let logs: readonly DiagLog[];
    try {
      logs = this.d.replicaLogs(service, replica);
    } catch {
      return out; // the replica's logs are gone (service deleted)
    }
    for (const log of logs) {
      for (const line of log.text.split('\n')) {
        // Errors only (pino writes the level first): the access lines, most of a busy log, are skipped unparsed.
        if (!ERROR_LINE.test(line)) continue;
        let f: Record<string, unknown>;
        try { f = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
        const id = f.request_id;
        if (typeof id !== 'string' || !ids.has(id)) continue;
        const tb = f.traceback;
        out.set(id, { error: String(f.msg ?? ''), ...(typeof tb === 'string' ? { traceback: tb.slice(0, TRACEBACK_CHARS) } : {}) });
      }
    }
    return out;
  }
}

/** The start of the error body the client got, with the same names redacted when it is JSON. */
function responseText(body: Buffer, names: readonly string[]): string {
  let kept = body;
  try {
    kept = redactRequest({ headers: {}, path: '', body }, names).body;
  } catch {
    return '(not kept: it could not be searched for redaction)';
  }
  const text = kept.subarray(0, RESPONSE_CHARS * 4).toString('utf8');
  return text.length > RESPONSE_CHARS ? `${text.slice(0, RESPONSE_CHARS)}…` : text;
}
