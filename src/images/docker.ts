// The Docker Engine API client: DOCKER_HOST honoured, a lazy connection checked with /_ping, and JSON progress streams read for errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { EnvSnapshot } from '../core/home.js';
import { BerthError } from '../errors/catalogue.js';

export type { default as Docker } from 'dockerode';

const DEFAULT_SOCKET = '/var/run/docker.sock';
const PING_TIMEOUT_MS = 5000;

/** Where the engine is, as DOCKER_HOST names it (`unix:///path`, `tcp://host:port`, `ssh://user@host`); the default socket without it. */
export function dockerEndpoint(env: EnvSnapshot): string {
  const host = env.DOCKER_HOST?.trim();
  return host === undefined || host === '' ? `unix://${DEFAULT_SOCKET}` : host;
}

/**
 * A client for the engine DOCKER_HOST names. Every option is given explicitly: docker-modem would otherwise read
 * process.env itself, and berth's modules read only the snapshot taken at the edge.
 */
export function dockerClient(env: EnvSnapshot): Docker {
  const endpoint = dockerEndpoint(env);
  const none = { host: undefined, port: undefined, protocol: undefined, socketPath: undefined } as const;
  if (endpoint.startsWith('unix://')) return new Docker({ ...none, socketPath: endpoint.slice('unix://'.length) || DEFAULT_SOCKET });
  let url: URL;
  try {
    url = new URL(endpoint.includes('//') ? endpoint : `tcp://${endpoint}`);
  } catch {
    throw unavailable(endpoint, 'DOCKER_HOST is not a URL such as unix:///var/run/docker.sock or tcp://127.0.0.1:2375');
  }
  if (url.protocol === 'ssh:') return new Docker({ ...none, protocol: 'ssh', host: url.hostname, port: url.port || 22, username: url.username || undefined, sshOptions: env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {} });
  const tls = env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
  const certs = tls && env.DOCKER_CERT_PATH ? readCerts(env.DOCKER_CERT_PATH) : {};
  return new Docker({ ...none, protocol: tls ? 'https' : 'http', host: url.hostname, port: url.port || (tls ? 2376 : 2375), ...certs });
}

function readCerts(dir: string): { ca: Buffer; cert: Buffer; key: Buffer } {
  return { ca: readFileSync(join(dir, 'ca.pem')), cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
}

export function unavailable(endpoint: string, detail: string): BerthError {
  return new BerthError('DOCKER_UNAVAILABLE', { endpoint, detail });
}

/** Socket-level failures that mean "no engine there", as opposed to an engine answering with an error. */
const NO_ENGINE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

export function isNoEngine(err: unknown): boolean {
  return NO_ENGINE.has(String((err as { code?: unknown } | undefined)?.code ?? ''));
}

/**
 * The engine, connected on first use: the control plane starts and serves without Docker, and only image (and container)
 * work fails, with DOCKER_UNAVAILABLE. A failed ping is not remembered, so starting dockerd later is enough.
 */
export class DockerConnection {
  private client: Docker | undefined;
  private checked: Promise<Docker> | undefined;

  constructor(private readonly env: EnvSnapshot, private readonly make: (env: EnvSnapshot) => Docker = dockerClient) {}

  get endpoint(): string {
    return dockerEndpoint(this.env);
  }

  /** The client after a successful /_ping; throws DOCKER_UNAVAILABLE. */
  get(): Promise<Docker> {
    this.checked ??= this.ping().catch((err: unknown) => {
      this.checked = undefined;
      throw err;
    });
    return this.checked;
  }

  /** Called when a request failed at the socket: the next get() pings again. */
  lost(): void {
    this.checked = undefined;
  }

  /** Maps a socket-level failure of any engine call to DOCKER_UNAVAILABLE (and forgets the connection); other errors pass. */
  wrap(err: unknown): unknown {
    if (!isNoEngine(err)) return err;
    this.lost();
    return unavailable(this.endpoint, describe(err));
  }

  private async ping(): Promise<Docker> {
    this.client ??= this.make(this.env);
    const client = this.client;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer to /_ping within ${PING_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.ping(), timeout]);
      return client;
    } catch (err) {
      throw unavailable(this.endpoint, describe(err));
    } finally {
      clearTimeout(timer);
    }
  }
}

export function describe(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; json?: { message?: unknown } } | undefined;
  const message = typeof e?.json?.message === 'string' ? e.json.message : typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? ` (${e.code})` : '';
  return `${message.trim()}${code}`;
}

/** One line of the engine's JSON progress stream (build, pull, push, import). */
export interface ProgressLine {
  readonly stream?: string;
  readonly status?: string;
  readonly progress?: string;
  readonly id?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string; readonly code?: number };
  readonly aux?: Readonly<Record<string, unknown>>;
}

/**
 * Reads a progress stream to its end. The engine reports a failed step inside a 200 response, as a line with `error`:
 * that line is returned as `error` rather than thrown, so the caller can say which step failed.
 */
export async function readProgress(stream: NodeJS.ReadableStream, onLine: (line: ProgressLine) => void): Promise<{ error?: string }> {
  let pending = '';
  let error: string | undefined;
  const take = (text: string): void => {
    if (text.trim() === '') return;
    let line: ProgressLine;
    try {
      line = JSON.parse(text) as ProgressLine;
    } catch {
      line = { stream: `${text}\n` };
    }
    if (line.error !== undefined || line.errorDetail?.message !== undefined) error = line.errorDetail?.message ?? line.error;
    onLine(line);
  };
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) take(l);
  }
  take(pending);
  return error === undefined ? {} : { error };
}

/** The status code dockerode puts on an engine error answer (404 for a missing image). */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}
