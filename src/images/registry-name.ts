// The registry setting (`HOST[:PORT][/NAMESPACE]`), parsed: small on purpose, since `berth up` checks it at its edge.
import { BerthError } from '../errors/catalogue.js';

/** The registry setting, parsed: `HOST[:PORT][/NAMESPACE]`, optionally with `http://` or `https://` in front. */
export interface RegistryTarget {
  /** `host:port`, as image names and the Docker config's `auths` spell it. */
  readonly host: string;
  readonly namespace: string;
  /** Loopback registries are plain HTTP (as dockerd treats 127.0.0.0/8 as insecure); others HTTPS unless `http://` is written. */
  readonly scheme: 'http' | 'https';
}

export const DEFAULT_NAMESPACE = 'berth';
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/i;
const NAMESPACE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function parseRegistry(text: string): RegistryTarget {
  const m = /^(?:(https?):\/\/)?([^/]+)(?:\/(.+?))?\/?$/.exec(text.trim());
  const bad = (why: string): never => { throw new BerthError('INVALID_ARGUMENT', { detail: `invalid registry "${text}": ${why}; write HOST:PORT or HOST:PORT/NAMESPACE, e.g. 127.0.0.1:5000` }); };
  if (m === null) return bad('empty');
  const host = m[2]!.toLowerCase();
  if (!HOST.test(host)) bad(`"${host}" is not a host name with an optional port`);
  const namespace = m[3] ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE.test(namespace)) bad(`"${namespace}" is not a repository path (lower-case letters, digits, . _ - and /)`);
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
  const scheme = (m[1] as 'http' | 'https' | undefined) ?? (loopback ? 'http' : 'https');
  return { host, namespace, scheme };
}
