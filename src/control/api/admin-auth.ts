// The admin API's guard: which paths stay open (scoring, metrics, the API document), and the admin token check on the rest.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer } from '../../gateway/auth.js';
import { BerthError } from '../../errors/catalogue.js';

/**
 * Paths anyone who reaches the port may call: the scoring gateway (it checks each service's own keys or tokens),
 * Prometheus metrics (counts and latencies per service name, no credential; scrapers usually have no token) and the
 * OpenAPI document (the same for every install). Everything else, unknown paths included, is admin.
 */
export function isOpenPath(pathname: string): boolean {
  return pathname === '/metrics' || pathname === '/openapi.json' || /^\/api\/v1\/service\/[^/]+\/(score|swagger\.json)$/.test(pathname);
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether `given` is `expected`, in time independent of both: the SHA-256 digests (always 32 bytes) are compared with
 * timingSafeEqual, so neither where they differ nor the length of the secret shows.
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Throws ADMIN_UNAUTHORIZED (with WWW-Authenticate set) unless the request may reach `pathname`. */
export type AdminGuard = (req: IncomingMessage, res: ServerResponse, pathname: string) => void;

/** The guard for `token`; without one (a loopback plane nobody gave a token) every path is open, as before. */
export function adminGuard(token: string | undefined): AdminGuard | undefined {
  if (token === undefined) return undefined;
  return (req, res, pathname) => {
    if (isOpenPath(pathname)) return;
    const header = req.headers.authorization;
    const credential = bearer(header);
    const detail = header === undefined ? 'no Authorization header'
      : credential === undefined ? 'the Authorization header is not of the form "Bearer <admin token>"'
      : sameSecret(credential, token) ? undefined
      : 'invalid admin token';
    if (detail === undefined) return;
    res.setHeader('www-authenticate', 'Bearer realm="berth admin"');
    throw new BerthError('ADMIN_UNAUTHORIZED', { detail });
  };
}
