// Maps coded errors to HTTP responses: the one place that decides status and JSON body shape.
import { BerthError, isBerthError } from './catalogue.js';

export interface ErrorBody {
  message: string;
  code: string;
  request_id?: string;
  fix?: string;
  [extra: string]: unknown;
}

/** Status and JSON body for any thrown value; unknown errors become INTERNAL (500). */
export function toHttpError(err: unknown, requestId?: string, extra: Record<string, unknown> = {}): { status: number; body: ErrorBody } {
  const e = isBerthError(err) ? err : new BerthError('INTERNAL', { detail: err instanceof Error ? err.message : String(err) });
  const body: ErrorBody = { message: e.message, code: e.code, fix: e.fix, ...extra };
  if (requestId !== undefined) body.request_id = requestId;
  return { status: e.status, body };
}
