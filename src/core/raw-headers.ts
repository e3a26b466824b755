// Request headers read from node:http's raw list: touching `req.headers` makes node build the whole header object per request.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const MAX_REQUEST_ID_LENGTH = 100;

/** A request header's first value (`lowerName` in lower case), or undefined. */
export function rawHeader(req: IncomingMessage, lowerName: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/** A flat [name, value, …] header list as an object: lower-case names, repeats joined with ", "; only names `keep` accepts. */
export function headerRecord(flat: readonly string[], keep: (lowerName: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    if (!keep(name)) continue;
    const value = flat[i + 1]!;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

/** The control plane's request id: the client's x-request-id when usable (1–100 characters), else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = rawHeader(req, 'x-request-id');
  return given !== undefined && given.length > 0 && given.length <= MAX_REQUEST_ID_LENGTH ? given : randomUUID();
}
