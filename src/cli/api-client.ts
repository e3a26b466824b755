// The CLI's client of the control plane's REST API: JSON calls and streamed file transfers, with berth's errors.
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { BerthError } from '../errors/catalogue.js';
import { fromHttpError } from '../errors/http.js';
import { resolveHome, type EnvSnapshot } from '../core/home.js';
import { liveRunInfo } from '../control/runfile.js';
import { parseOrThrow } from '../core/parse-settings.js';
import { adminCredential } from './admin-credential.js';
import { textCall } from './text-call.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

const settingsSchema = z
  .object({
    server: z.string().url().regex(/^https?:\/\//, 'must be an http:// or https:// URL').transform((u) => u.replace(/\/+$/, '')),
    /** Sent as Authorization: Bearer on every call; `from` names where it was read, for the 401 message. */
    adminToken: z.object({ value: z.string().min(1), from: z.string() }).strict().optional(),
    /** Where the CLI looked and found no token, for the 401 message. */
    adminTokenLookedIn: z.string().optional(),
  })
  .strict();

export type ClientSettings = Readonly<z.infer<typeof settingsSchema>>;

/**
 * The control plane's URL: `--server`, else BERTH_SERVER, else the URL of the control plane running for
 * $BERTH_HOME (so `berth up --port 7171` needs no extra flag), else http://127.0.0.1:7070.
 */
export function parseClientSettings(flags: { server?: string | undefined }, env: EnvSnapshot): ClientSettings {
  const home = resolveHome(undefined, env);
  const running = liveRunInfo(home);
  const server = flags.server ?? (env.BERTH_SERVER || undefined) ?? running?.url ?? DEFAULT_SERVER;
  const credential = adminCredential(server, running, home, env);
  return Object.freeze(parseOrThrow(settingsSchema, { server, ...credential }, { server: '--server / BERTH_SERVER', adminToken: 'BERTH_ADMIN_TOKEN' }));
}

type Query = Readonly<Record<string, string | undefined>>;

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * JSON calls go over node:http (Node's built-in fetch loads its own HTTP client first, about 30 ms of a command's
 * start); file transfers use undici's request, loaded on first use, which streams Node streams directly and moves
 * large files markedly faster.
 */
export class ApiClient {
  constructor(private readonly settings: ClientSettings) {}

  get server(): string {
    return this.settings.server;
  }

  /** A JSON call; resolves with the parsed body (undefined for 204), throws the server's error otherwise. */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: { json?: unknown; query?: Query } = {}): Promise<T> {
    const hasBody = options.json !== undefined;
    const res = await this.transport(() =>
      textCall(this.url(path, options.query), method, { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...this.auth() }, hasBody ? JSON.stringify(options.json) : null),
    );
    return (await this.readJson(res.status, () => Promise.resolve(res.text))) as T;
  }

  /** Streams `body` as the request body of a PUT; the file is never held in memory whole. */
  async put<T>(path: string, query: Query, body: Readable, headers: Readonly<Record<string, string>>): Promise<T> {
    const { request } = await import('undici');
    const res = await this.transport(() =>
      request(this.url(path, query), { method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...headers, ...this.auth() }, body }),
    );
    return (await this.readJson(res.statusCode, () => res.body.text())) as T;
  }

  /** A streamed GET of raw bytes. */
  async download(path: string, query: Query): Promise<Readable> {
    const { request } = await import('undici');
    const res = await this.transport(() => request(this.url(path, query), { method: 'GET', headers: this.auth() }));
    if (res.statusCode >= 400) await this.readJson(res.statusCode, () => res.body.text()); // throws the server's error
    return res.body;
  }

  /**
   * A JSON POST whose answer streams (JSON lines of a long-running job): no time limit between chunks, since a build
   * step may print nothing for minutes. Throws the server's error when it answers with one before streaming.
   */
  async postStream(path: string, json: unknown): Promise<AsyncIterable<Buffer>> {
    const { request } = await import('undici');
    const res = await this.transport(() =>
      request(this.url(path, undefined), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json), bodyTimeout: 0 }),
    );
    if (res.statusCode >= 400) await this.readJson(res.statusCode, () => res.body.text()); // throws the server's error
    return res.body;
  }

  /** Turns a transport failure of a call into CONTROL_PLANE_REQUEST_FAILED. */
  failed(err: unknown): BerthError {
    return new BerthError('CONTROL_PLANE_REQUEST_FAILED', { server: this.server, detail: describe(err) }, { cause: err });
  }

  private auth(): Record<string, string> {
    const token = this.settings.adminToken;
    return token === undefined ? {} : { authorization: `Bearer ${token.value}` };
  }

  /** The server's 401 says the token is wrong; only the CLI knows where it came from, so the message says that. */
  private adminUnauthorized(): BerthError {
    const token = this.settings.adminToken;
    const detail = token !== undefined
      ? `the control plane at ${this.server} refused the admin token from ${token.from}`
      : `the control plane at ${this.server} requires an admin token and none was found (looked in ${this.settings.adminTokenLookedIn ?? 'BERTH_ADMIN_TOKEN'})`;
    return new BerthError('ADMIN_UNAUTHORIZED', { detail });
  }

  private url(path: string, query: Query | undefined): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  private async transport<R>(send: () => Promise<R>): Promise<R> {
    try {
      return await send();
    } catch (err) {
      if (UNREACHABLE.has(codeOf(err))) throw new BerthError('CONTROL_PLANE_UNREACHABLE', { server: this.server }, { cause: err });
      throw this.failed(err);
    }
  }

  private async readJson(status: number, readText: () => Promise<string>): Promise<unknown> {
    let text: string;
    try {
      text = await readText();
    } catch (err) {
      throw this.failed(err);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new BerthError('CONTROL_PLANE_REQUEST_FAILED', { server: this.server, detail: `HTTP ${status} with a body that is not JSON` });
    }
    if (status >= 400) {
      const err = fromHttpError(status, parsed);
      throw err.code === 'ADMIN_UNAUTHORIZED' ? this.adminUnauthorized() : err;
    }
    return parsed;
  }
}

/** node:http and undici put the socket error's code on the error; fetch wraps it: TypeError('fetch failed') with it as the cause. */
function codeOf(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return String(e?.cause?.code ?? e?.code ?? '');
}

function describe(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const inner = cause instanceof Error ? cause : err;
  const message = inner instanceof Error ? inner.message : String(inner);
  const code = codeOf(err);
  return code !== '' && !message.includes(code) ? `${message} (${code})` : message;
}
