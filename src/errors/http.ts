// Maps coded errors to HTTP responses: the one place that decides status and JSON body shape.
import { BerthError, catalogue, isBerthError, type ErrorCode } from './catalogue.js';
import { storageFailure } from './storage.js';

export interface ErrorBody {
  message: string;
  code: string;
  request_id?: string;
  fix?: string;
  [extra: string]: unknown;
}

/**
 * Status and JSON body for any thrown value. Uncoded errors that are storage failures (a full disk, an I/O error, from
 * SQLite or the filesystem; see storage.ts) become STORAGE_FAILED (507) naming `home`, the rest INTERNAL (500). Mapped
 * here, where every route's error passes, so no route has to catch them itself.
 */
export function toHttpError(err: unknown, requestId?: string, extra: Record<string, unknown> = {}, home = '$BERTH_HOME'): { status: number; body: ErrorBody } {
  const e = isBerthError(err) ? err : storageFailure(err, home) ?? new BerthError('INTERNAL', { detail: err instanceof Error ? err.message : String(err) });
  const body: ErrorBody = { message: e.message, code: e.code, fix: e.fix, ...extra };
  if (requestId !== undefined) body.request_id = requestId;
  return { status: e.status, body };
}

/**
 * The inverse, for clients of berth's APIs: the error a JSON error body stands for, keeping the message and fix the
 * server rendered (the params that filled them stay on the server). An unknown or missing code becomes INTERNAL.
 */
export function fromHttpError(status: number, body: unknown): BerthError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Partial<Record<'code' | 'message' | 'fix', unknown>>;
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status} without an error body`;
  if (typeof b.code !== 'string' || !(b.code in catalogue)) return new BerthError('INTERNAL', { detail: message });
  const err = new BerthError(b.code as ErrorCode);
  return Object.assign(err, { message, fix: typeof b.fix === 'string' ? b.fix : err.fix });
}
