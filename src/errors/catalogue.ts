// The one catalogue of berth's coded errors: code, HTTP status, message template and fix (the entries, by part, in codes/).
import type { ErrorEntry } from './entry.js';
import { serveErrors } from './codes/serve.js';
import { controlErrors } from './codes/control.js';
import { platformErrors } from './codes/platform.js';

/** Every error berth knows. `message` and `fix` are templates: `{name}` is filled from the error's params. */
export const catalogue = {
  ...serveErrors,
  ...controlErrors,
  ...platformErrors,
  INTERNAL: {
    status: 500,
    message: 'internal error: {detail}',
    fix: 'This is a bug in berth; the log has the details.',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof catalogue;
export type ErrorParams = Readonly<Record<string, string | number>>;

function fill(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

/** An error with a catalogue code; everything berth raises on purpose is one of these. */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fix: string;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    const entry = catalogue[code];
    super(fill(entry.message, params), options);
    this.name = 'BerthError';
    this.code = code;
    this.status = entry.status;
    this.fix = fill(entry.fix, params);
    this.params = params;
  }
}

export function isBerthError(err: unknown): err is BerthError {
  return err instanceof BerthError;
}

export const errorCodes = Object.keys(catalogue) as ErrorCode[];
