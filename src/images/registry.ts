// The registry's side: does it have a tag (manifest HEAD, with the right Accept headers), and the user's credentials from the Docker config.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { EnvSnapshot } from '../core/home.js';
import { BerthError } from '../errors/catalogue.js';
import type { RegistryTarget } from './tags.js';

/**
 * Without these the Distribution registry answers a HEAD with a schema1 manifest converted on the fly, whose digest is
 * not the one the image is pulled or run by.
 */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The Engine API's X-Registry-Auth content. */
export interface EngineAuth {
  readonly username: string;
  readonly password: string;
  readonly serveraddress: string;
}

/**
 * Credentials for `host` from `$DOCKER_CONFIG/config.json` (else ~/.docker/config.json): the `auths` entry whose key is
 * the host (with or without scheme and path), as base64 `user:pass` or username/password fields. Credential helpers
 * (credsStore, credHelpers) are not consulted.
 */
export function dockerCredentials(env: EnvSnapshot, host: string): Credentials | undefined {
  const dir = env.DOCKER_CONFIG?.trim() || join(env.HOME?.trim() || homedir(), '.docker');
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as typeof config;
  } catch {
    return undefined;
  }
  const strip = (key: string): string => key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  const entry = Object.entries(config.auths ?? {}).find(([key]) => strip(key) === host.toLowerCase())?.[1];
  if (entry === undefined) return undefined;
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  return undefined;
}

const TIMEOUT_MS = 10_000;

export class RegistryClient {
  constructor(readonly target: RegistryTarget, private readonly credentials: Credentials | undefined) {}

  /** What dockerd needs to push to and pull from this registry as the user. */
  engineAuth(): EngineAuth | undefined {
    return this.credentials === undefined ? undefined : { ...this.credentials, serveraddress: this.target.host };
  }

  /**
   * The manifest digest of `repository:tag` (repository without the host), or undefined when the registry does not
   * have it. Throws REGISTRY_UNREACHABLE when it cannot be asked, REGISTRY_UNAUTHORIZED when it refuses.
   */
  async manifestDigest(repository: string, tag: string): Promise<string | undefined> {
    const url = `${this.target.scheme}://${this.target.host}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
    let res = await this.head(url, undefined);
    if (res.status === 401) {
      const authorization = await this.authorize(res.challenge, repository);
      if (authorization !== undefined) res = await this.head(url, authorization);
    }
    if (res.status === 404) return undefined;
    if (res.status === 401 || res.status === 403) {
      throw new BerthError('REGISTRY_UNAUTHORIZED', { registry: this.target.host, detail: `HEAD ${repository}:${tag} answered ${res.status}${this.credentials === undefined ? ' and the Docker config has no credentials for it' : ' with the Docker config\'s credentials'}` });
    }
    if (res.status !== 200) throw new BerthError('REGISTRY_UNREACHABLE', { registry: this.target.host, detail: `HEAD ${url} answered HTTP ${res.status}` });
    return res.digest;
  }

  private async head(url: string, authorization: string | undefined): Promise<{ status: number; digest?: string; challenge: string }> {
    try {
      const res = await request(url, {
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT, ...(authorization === undefined ? {} : { authorization }) },
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
      });
      await res.body.dump();
      const digest = header(res.headers['docker-content-digest']);
      return { status: res.statusCode, ...(digest === undefined ? {} : { digest }), challenge: header(res.headers['www-authenticate']) ?? '' };
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  /** Answers a 401 challenge: Basic with the credentials, or a Bearer token fetched from the realm the registry names. */
  private async authorize(challenge: string, repository: string): Promise<string | undefined> {
    const basic = this.credentials === undefined ? undefined : `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    if (/^basic\b/i.test(challenge)) return basic;
    if (!/^bearer\b/i.test(challenge)) return undefined;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    if (params.realm === undefined) return undefined;
    const tokenUrl = new URL(params.realm);
    if (params.service !== undefined) tokenUrl.searchParams.set('service', params.service);
    tokenUrl.searchParams.set('scope', params.scope ?? `repository:${repository}:pull`);
    try {
      const res = await request(tokenUrl, { method: 'GET', headers: basic === undefined ? {} : { authorization: basic }, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return undefined;
      }
      const body = (await res.body.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      return token === undefined ? undefined : `Bearer ${token}`;
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  private unreachable(err: unknown): BerthError {
    const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
    const code = String(e.cause?.code ?? e.code ?? '');
    const message = String(e.cause?.message ?? e.message ?? err);
    return new BerthError('REGISTRY_UNREACHABLE', { registry: this.target.host, detail: code !== '' && !message.includes(code) ? `${message} (${code})` : message }, { cause: err });
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
