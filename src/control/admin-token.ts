// The admin token of `berth up`: whether the host needs one, where it comes from (flag, file, env, or generated in the home), and its checks.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import { BerthError } from '../errors/catalogue.js';

/** Where `berth up` keeps a token it generated; the CLI reads it from there. */
export const ADMIN_TOKEN_FILE = 'admin-token';
export const MIN_ADMIN_TOKEN_LENGTH = 16;
const MAX_ADMIN_TOKEN_LENGTH = 4096;

/** Where the settings say the token comes from; the value of a file is read by resolveAdminToken, not by the parser. */
export type AdminTokenSource =
  | { readonly kind: 'value'; readonly value: string; readonly from: '--admin-token' | 'BERTH_ADMIN_TOKEN' }
  | { readonly kind: 'file'; readonly path: string };

export interface AdminToken {
  readonly value: string;
  /** For messages: the flag, variable or file it came from (never the token). */
  readonly from: string;
  /** The file holding it, recorded in the run file so the CLI on this machine finds it; absent for a flag or variable. */
  readonly file?: string;
  /** True when this start made it: `berth up` prints it, once. */
  readonly generated: boolean;
}

/**
 * Whether listening on `host` reaches only this machine: 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`.
 * Any other name may resolve anywhere, so it counts as off loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (h === 'localhost' || h === 'localhost.') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (!isIPv6(h)) return false;
  const canonical = new URL(`http://[${h}]`).hostname.slice(1, -1); // WHATWG URL parsing compresses and lower-cases
  return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
}

/** The token, or ADMIN_TOKEN_INVALID naming `from`: it goes in an Authorization header, so printable ASCII without spaces. */
export function checkAdminToken(value: string, from: string): string {
  const fail = (detail: string): never => {
    throw new BerthError('ADMIN_TOKEN_INVALID', { source: from, detail });
  };
  if (value.length === 0) fail('it is empty');
  if (value.length < MIN_ADMIN_TOKEN_LENGTH) fail(`it has ${value.length} characters; at least ${MIN_ADMIN_TOKEN_LENGTH} are needed`);
  if (value.length > MAX_ADMIN_TOKEN_LENGTH) fail(`it has more than ${MAX_ADMIN_TOKEN_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(value)) fail('it may hold only printable ASCII characters without spaces');
  return value;
}

/** A token file's content without its trailing newline (or whitespace); unreadable → ADMIN_TOKEN_INVALID. */
export function readAdminTokenFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new BerthError('ADMIN_TOKEN_INVALID', { source: path, detail: `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
  }
}

/**
 * The token this start enforces: the one given (any host), else off loopback the home's file, made (0600) with 32
 * random bytes when absent; on loopback with none given, undefined (no admin auth, as before). A kept token survives
 * restarts, so clients holding it go on working.
 */
export function resolveAdminToken(o: { readonly home: string; readonly host: string; readonly source?: AdminTokenSource | undefined }): AdminToken | undefined {
  const { source } = o;
  if (source?.kind === 'value') return { value: checkAdminToken(source.value, source.from), from: source.from, generated: false };
  if (source?.kind === 'file') return { value: checkAdminToken(readAdminTokenFile(source.path), source.path), from: source.path, file: source.path, generated: false };
  if (isLoopbackHost(o.host)) return undefined;
  mkdirSync(o.home, { recursive: true, mode: 0o700 });
  const file = join(o.home, ADMIN_TOKEN_FILE);
  const value = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' }); // wx: never overwrite a token someone holds
    return { value, from: file, file, generated: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { value: checkAdminToken(readAdminTokenFile(file), file), from: file, file, generated: false };
}
