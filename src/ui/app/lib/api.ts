// Calls to the plane's admin API with the admin token, and its JSON errors as ApiError (code, message, fix).
import { authHeaders, unauthorized } from './auth.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly fix: string) {
    super(message);
  }
}

interface ErrorBody { code?: unknown; message?: unknown; fix?: unknown }

export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // not berth's JSON error (a proxy's page): the status says enough
  }
  const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
  return new ApiError(res.status, str(body.code, `HTTP_${res.status}`), str(body.message, `HTTP ${res.status} ${res.statusText}`), str(body.fix, ''));
}

/** A request to the admin API; a 401 opens the token prompt. */
export async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(signal === undefined ? {} : { signal }) });
  if (res.status === 401) unauthorized();
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await call('GET', path, undefined, signal)).json()) as T;
}

export async function sendJson<T>(method: 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T | undefined> {
  const res = await call(method, path, body);
  return res.status === 204 ? undefined : ((await res.json()) as T);
}

export async function getText(path: string, signal?: AbortSignal): Promise<string> {
  return (await call('GET', path, undefined, signal)).text();
}

export const enc = encodeURIComponent;
