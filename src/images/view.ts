// An image row as the API shows it: snake_case fields, the failure rendered with its message and fix.
import { BerthError, errorCodes, type ErrorCode } from '../errors/catalogue.js';
import type { ImageView } from './schema.js';
import type { ImageRecord } from './store.js';

export function toView(r: ImageRecord, present: boolean): ImageView {
  return {
    tag: r.tag, kind: r.kind, state: r.state, present,
    ...(r.outcome === undefined ? {} : { outcome: r.outcome }),
    ...(r.ref === undefined ? {} : { ref: r.ref }),
    ...(r.digest === undefined ? {} : { digest: r.digest }),
    ...(r.imageId === undefined ? {} : { image_id: r.imageId }),
    ...(r.size === undefined ? {} : { size: r.size }),
    ...(r.parent === undefined ? {} : { parent: r.parent }),
    ...(r.service === undefined ? {} : { service: r.service }),
    ...(r.why === undefined ? {} : { why: r.why }),
    ...(r.buildMs === undefined ? {} : { build_ms: r.buildMs }),
    created_at: r.createdAt, last_used_at: r.lastUsedAt,
    inputs: { ...r.inputs },
    ...(r.lock === undefined ? {} : { lock: { kind: r.lock.kind, packages: r.lock.packages.map((p) => ({ ...p })) } }),
    log: r.logPath,
    ...(r.failure === undefined ? {} : { error: render(r.failure) }),
  };
}

function render(f: NonNullable<ImageRecord['failure']>): { code: string; message: string; fix: string } {
  if (!(errorCodes as string[]).includes(f.code)) return { code: f.code, message: JSON.stringify(f.params), fix: '' };
  const err = new BerthError(f.code as ErrorCode, f.params);
  return { code: err.code, message: err.message, fix: err.fix };
}
