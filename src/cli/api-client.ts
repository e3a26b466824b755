// The CLI's client of the control plane's REST API: JSON calls and streamed file transfers, with berth's errors.
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { z } from 'zod';
import { BerthError } from '../errors/catalogue.js';
import { fromHttpError } from '../errors/http.js';
import { resolveHome, type EnvSnapshot } from '../core/home.js';
import { liveRunInfo } from '../control/runfile.js';
import { parseOrThrow } from '../control/settings.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

const settingsSchema = z
  .object({ server: z.string().url().regex(/^https?:\/\//, 'must be an http:// or https:// URL').transform((u) => u.replace(/\/+$/, '')) })
  .strict();

export type ClientSettings = Readonly<z.infer<typeof settingsSchema>>;

/**
 * The control plane's URL: `--server`, else BERTH_SERVER, else the URL of the control plane running for
 * $BERTH_HOME (so `berth up --port 7171` needs no extra flag), else http://127.0.0.1:7070.
 */
export function parseClientSettings(flags: { server?: string | undefined }, env: EnvSnapshot): ClientSettings {
  const server = flags.server ?? (env.BERTH_SERVER || undefined) ?? liveRunInfo(resolveHome(undefined, env))?.url ?? DEFAULT_SERVER;
  return Object.freeze(parseOrThrow(settingsSchema, { server }, { server: '--server / BERTH_SERVER' }));
}

type Query = Readonly<Record<string, string | undefined>>;

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

export class ApiClient {
  constructor(private readonly settings: ClientSettings) {}

  get server(): string {
    return this.settings.server;
  }

  /** A JSON call; resolves with the parsed body (undefined for 204), throws the server's error otherwise. */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { json?: unknown; query?: Query } = {}): Promise<T> {
    const hasBody = options.json !== undefined;
    const res = await this.send(path, options.query, {
      method,
      headers: hasBody ? { 'content-type': 'application/json' } : {},
      body: hasBody ? JSON.stringify(options.json) : null,
    });
    return (await this.readJson(res.statusCode, res.body)) as T;
  }

  /** Streams `body` as the request body of a PUT; the file is never held in memory whole. */
  async put<T>(path: string, query: Query, body: Readable, headers: Readonly<Record<string, string>>): Promise<T> {
    const res = await this.send(path, query, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...headers }, body });
    return (await this.readJson(res.statusCode, res.body)) as T;
  }

  /** A streamed GET of raw bytes, with the response headers. */
  async download(path: string, query: Query): Promise<{ body: Readable; headers: Readonly<Record<string, string | string[] | undefined>> }> {
    const res = await this.send(path, query, { method: 'GET' });
    if (res.statusCode >= 400) await this.readJson(res.statusCode, res.body); // throws the server's error
    return { body: res.body, headers: res.headers };
  }

  /** Turns a transport failure of a call into CONTROL_PLANE_REQUEST_FAILED. */
  failed(err: unknown): BerthError {
    return new BerthError('CONTROL_PLANE_REQUEST_FAILED', { server: this.server, detail: describe(err) }, { cause: err });
  }

  private async send(path: string, query: Query | undefined, options: Parameters<typeof request>[1] & object) {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    try {
      return await request(url, options);
    } catch (err) {
      if (UNREACHABLE.has(codeOf(err))) throw new BerthError('CONTROL_PLANE_UNREACHABLE', { server: this.server }, { cause: err });
      throw this.failed(err);
    }
  }

  private async readJson(status: number, body: { text(): Promise<string> }): Promise<unknown> {
    let text: string;
    try {
      text = await body.text();
    } catch (err) {
      throw this.failed(err);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new BerthError('CONTROL_PLANE_REQUEST_FAILED', { server: this.server, detail: `HTTP ${status} with a body that is not JSON` });
    }
    if (status >= 400) throw fromHttpError(status, parsed);
    return parsed;
  }
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return String(e?.code ?? e?.cause?.code ?? '');
}

function describe(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return code !== '' && !message.includes(code) ? `${message} (${code})` : message;
}
