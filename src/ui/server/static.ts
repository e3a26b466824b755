// Serves the built dashboard at /ui: content types, long caching for hashed assets, index.html for client routes, gzip.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BerthError } from '../../errors/catalogue.js';
import { toHttpError } from '../../errors/http.js';

export const UI_PREFIX = '/ui';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8', '.map': 'application/json; charset=utf-8', '.png': 'image/png', '.ico': 'image/x-icon',
  '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.map', '.txt']);

/**
 * The page's own rules: scripts and styles only from this origin (uPlot sets element styles from script, which a CSP
 * allows), data only from this origin, never framed (the admin token is typed into it).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface File { readonly body: Buffer; readonly gz?: Buffer; readonly etag: string; readonly type: string }

/**
 * The handler for every request under /ui (anything else: false, left to the API router). The files hold no secret
 * and are the same for every install, so they need no admin token: the page must load to ask for it; every data
 * route it calls is admin. Files are read once and kept with their gzip (a few hundred KB) until they change.
 */
export function uiHandler(root: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const cache = new Map<string, File & { readonly stamp: string }>();
  const load = (path: string): File => {
    // Checked against the file's time and size on each request, so a rebuild under a running plane is served at once.
    const st = statSync(path);
    const stamp = `${st.mtimeMs}:${st.size}`;
    let f = cache.get(path);
    if (f === undefined || f.stamp !== stamp) {
      const body = readFileSync(path);
      const ext = extname(path);
      f = {
        stamp, body, etag: `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, type: TYPES[ext] ?? 'application/octet-stream',
        ...(COMPRESSIBLE.has(ext) && body.length > 512 ? { gz: gzipSync(body, { level: 9 }) } : {}),
      };
      cache.set(path, f);
    }
    return f;
  };
  return (req, res) => {
    const url = req.url ?? '/';
    if (url !== UI_PREFIX && !url.startsWith(`${UI_PREFIX}/`) && !url.startsWith(`${UI_PREFIX}?`)) return false;
    try {
      serve(root, load, req, res);
    } catch (err) {
      const { status, body } = toHttpError(err, undefined);
      // A person opening /ui in a browser reads the message and the fix; a script gets berth's usual JSON error.
      const html = /\btext\/html\b/.test(req.headers.accept ?? '');
      const text = html ? errorPage(body.code, body.message, body.fix ?? '') : JSON.stringify(body);
      res.writeHead(status, { 'content-type': html ? TYPES['.html']! : 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' }).end(text);
    }
    return true;
  };
}

function serve(root: string, load: (path: string) => File, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    throw new BerthError('METHOD_NOT_ALLOWED', { method: req.method ?? '?', path: UI_PREFIX, allowed: 'GET, HEAD' });
  }
  const index = join(root, 'index.html');
  if (!existsSync(index)) throw new BerthError('UI_NOT_BUILT', { root });
  const pathname = new URL(req.url ?? '/', 'http://berth.invalid').pathname;
  // `/ui/../x` is `/x` once resolved: not a dashboard file.
  if (pathname !== UI_PREFIX && !pathname.startsWith(`${UI_PREFIX}/`)) throw new BerthError('UI_ASSET_NOT_FOUND', { path: pathname });
  if (pathname === UI_PREFIX) {
    res.writeHead(308, { location: `${UI_PREFIX}/`, 'content-length': 0 }).end();
    return;
  }
  const rel = decode(pathname.slice(UI_PREFIX.length + 1));
  const file = resolveFile(root, rel);
  if (file === undefined) {
    // A path with an extension names a file: a missing one (a stale hashed asset) is 404, never the page in its place.
    if (extname(rel) !== '') throw new BerthError('UI_ASSET_NOT_FOUND', { path: pathname });
    send(req, res, load(index), 'no-cache', true);
    return;
  }
  const hashed = rel.startsWith('assets/');
  send(req, res, load(file), hashed ? 'public, max-age=31536000, immutable' : 'no-cache', extname(file) === '.html');
}

/** The file under `root` that `rel` names, or undefined; never outside root. */
function resolveFile(root: string, rel: string): string | undefined {
  if (rel === '' || rel.includes('\0')) return undefined;
  const path = normalize(join(root, rel));
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    return statSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

function send(req: IncomingMessage, res: ServerResponse, f: File, cacheControl: string, page: boolean): void {
  const headers: Record<string, string | number> = { 'content-type': f.type, 'cache-control': cacheControl, etag: f.etag, vary: 'accept-encoding', ...(page ? SECURITY_HEADERS : { 'x-content-type-options': 'nosniff' }) };
  if (req.headers['if-none-match'] === f.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  const gzip = f.gz !== undefined && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? f.gz! : f.body;
  if (gzip) headers['content-encoding'] = 'gzip';
  headers['content-length'] = body.length;
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BerthError('UI_ASSET_NOT_FOUND', { path: segment });
  }
}

const escapeHtml = (t: string): string => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorPage(code: string, message: string, fix: string): string {
  return `<!doctype html><meta charset="utf-8"><title>berth: ${escapeHtml(code)}</title>
<body style="font: 15px system-ui, sans-serif; margin: 3em auto; max-width: 46em"><h1>berth dashboard</h1>
<p><b>${escapeHtml(message)}</b> (${escapeHtml(code)})</p><p>${escapeHtml(fix)}</p>
<p>See docs/troubleshooting.md, section ${escapeHtml(code)}.</p></body>`;
}
