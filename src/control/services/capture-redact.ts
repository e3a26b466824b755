// Redaction of a captured request before anything of it is written: headers, JSON body fields (at any depth) and query parameters by name.
import { REPLICA_KEY_HEADER } from '../../core/replica-key.js';

export const REDACTED = '[redacted]';

/** Credentials that are never kept, whatever the service names. */
const ALWAYS = ['authorization', 'proxy-authorization', REPLICA_KEY_HEADER];
/** What `redacted` lists at most (a body with a million matching fields needs no million-line note). */
const MAX_NOTES = 20;

export interface RequestParts {
  readonly headers: Readonly<Record<string, string>>;
  /** Path and query as the replica got it, e.g. /score?x=1. */
  readonly path: string;
  readonly body: Buffer;
}

export interface RedactedRequest extends RequestParts {
  /** Where values were replaced: `header authorization`, `body.customer.ssn`, `query token`. */
  readonly redacted: readonly string[];
}

/** Thrown when a body that should be searched cannot be (too deeply nested): the caller must then keep no body at all. */
export class RedactionFailed extends Error {}

/**
 * Replaces named values by "[redacted]": headers (names compared in lower case; `authorization` always), JSON object
 * fields anywhere in a JSON body and query parameters (names compared in lower case). A body is re-encoded only when
 * something in it was replaced, so an untouched body keeps its exact bytes; a body that is not JSON is kept as it is.
 */
export function redactRequest(req: RequestParts, names: readonly string[]): RedactedRequest {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const notes: string[] = [];
  const note = (what: string): void => { if (notes.length < MAX_NOTES) notes.push(what); else if (notes.length === MAX_NOTES) notes.push('…'); };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase();
    if (ALWAYS.includes(lower) || wanted.has(lower)) {
      headers[lower] = REDACTED;
      note(`header ${lower}`);
    } else headers[lower] = value;
  }
  return { headers, path: redactQuery(req.path, wanted, note), body: redactBody(req.body, wanted, note), redacted: notes };
}

function redactQuery(path: string, wanted: ReadonlySet<string>, note: (what: string) => void): string {
  const q = path.indexOf('?');
  if (q < 0 || wanted.size === 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  let hit = false;
  for (const key of new Set(params.keys())) {
    if (!wanted.has(key.toLowerCase())) continue;
    hit = true;
    params.set(key, REDACTED);
    note(`query ${key}`);
  }
  return hit ? `${path.slice(0, q)}?${params.toString()}` : path;
}

function redactBody(body: Buffer, wanted: ReadonlySet<string>, note: (what: string) => void): Buffer {
  if (wanted.size === 0 || !looksLikeJson(body)) return body;
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return body; // not JSON after all: nothing named in it can be found
  }
  let hits = 0;
  const walk = (v: unknown, at: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}[${i}]`));
    if (v === null || typeof v !== 'object') return v;
    // No prototype: a "__proto__" key in the body stays a plain field.
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) {
      if (wanted.has(k.toLowerCase())) {
        out[k] = REDACTED;
        hits++;
        note(`${at}.${k}`);
      } else out[k] = walk(x, `${at}.${k}`);
    }
    return out;
  };
  let redacted: unknown;
  try {
    redacted = walk(doc, 'body');
  } catch (err) {
    throw new RedactionFailed(`the JSON body could not be searched for redaction: ${(err as Error).message}`);
  }
  return hits === 0 ? body : Buffer.from(JSON.stringify(redacted));
}

function looksLikeJson(body: Buffer): boolean {
  for (const b of body) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b || b === 0x5b; // { or [
  }
  return false;
}
