// Serving the built dashboard at /ui: content types, caching, gzip, the page for client routes, and nothing outside its folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { uiHandler } from '../../src/ui/server/static.js';

const root = mkdtempSync(join(tmpdir(), 'berth-ui-static-'));
const empty = mkdtempSync(join(tmpdir(), 'berth-ui-empty-'));
mkdirSync(join(root, 'assets'));
const script = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;
writeFileSync(join(root, 'index.html'), '<!doctype html><title>berth</title><script type="module" src="/ui/assets/index-abc123.js"></script>');
writeFileSync(join(root, 'assets', 'index-abc123.js'), script);
writeFileSync(join(root, 'assets', 'index-abc123.css'), 'body{}');
writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(join(tmpdir(), 'berth-ui-secret.txt'), 'outside');

function serve(dir: string): Promise<string> {
  const handle = uiHandler(dir);
  const server = createServer((req, res) => { if (!handle(req, res)) res.writeHead(418).end('router'); });
  after(() => server.close());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** A raw request (fetch would normalise `..` away and decompress). */
function get(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject).end();
  });
}

after(() => { rmSync(root, { recursive: true, force: true }); rmSync(empty, { recursive: true, force: true }); rmSync(join(tmpdir(), 'berth-ui-secret.txt'), { force: true }); });

test('the page: /ui redirects to /ui/, which is index.html with no-cache and the page\'s security headers', async () => {
  const base = await serve(root);
  const redirect = await get(base, '/ui');
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.location, '/ui/');
  const page = await get(base, '/ui/');
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'none'/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.match(page.body.toString(), /<title>berth<\/title>/);
});

test('client routes get the page; a missing file with an extension is 404, never the page in its place', async () => {
  const base = await serve(root);
  for (const path of ['/ui/services/fraud', '/ui/models', '/ui/operations?x=1']) {
    const r = await get(base, path);
    assert.equal(r.status, 200, path);
    assert.match(r.body.toString(), /<title>berth/, path);
  }
  const stale = await get(base, '/ui/assets/index-old999.js');
  assert.equal(stale.status, 404);
  assert.equal(JSON.parse(stale.body.toString()).code, 'UI_ASSET_NOT_FOUND');
  const human = await get(base, '/ui/assets/index-old999.js', { accept: 'text/html' });
  assert.match(human.body.toString(), /Reload the page/);
});

test('hashed assets are cached for a year; others revalidate by ETag; text is gzipped when asked', async () => {
  const base = await serve(root);
  const js = await get(base, '/ui/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
  assert.equal(js.status, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(js.headers['content-encoding'], 'gzip');
  assert.equal(js.headers.vary, 'accept-encoding');
  assert.equal(gunzipSync(js.body).toString(), script);
  assert.ok(js.body.length < 200);
  const plain = await get(base, '/ui/assets/index-abc123.js');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body.toString(), script);
  assert.equal((await get(base, '/ui/assets/index-abc123.css')).headers['content-type'], 'text/css; charset=utf-8');
  const icon = await get(base, '/ui/favicon.svg');
  assert.equal(icon.headers['content-type'], 'image/svg+xml');
  assert.equal(icon.headers['cache-control'], 'no-cache');
  const again = await get(base, '/ui/favicon.svg', { 'if-none-match': String(icon.headers.etag) });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  const head = await get(base, '/ui/assets/index-abc123.js', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(script.length));
});

test('nothing outside the folder, only GET and HEAD, other paths left to the router, and a missing build said as such', async () => {
  const base = await serve(root);
  for (const path of ['/ui/../berth-ui-secret.txt', '/ui/%2e%2e/berth-ui-secret.txt', '/ui/assets/..%2f..%2fberth-ui-secret.txt', '/ui/%00.js']) {
    const r = await get(base, path);
    assert.ok(!r.body.toString().includes('outside'), path);
  }
  const post = await get(base, '/ui/', {}, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  for (const path of ['/uix', '/v1/services', '/', '/api/v1/service/a/score']) assert.equal((await get(base, path)).status, 418, path);
  const unbuilt = await serve(empty);
  const r = await get(unbuilt, '/ui/');
  assert.equal(r.status, 503);
  assert.equal(JSON.parse(r.body.toString()).code, 'UI_NOT_BUILT');
});

test('a rebuild under a running plane is served at once (files are cached by time and size)', async () => {
  const base = await serve(root);
  assert.match((await get(base, '/ui/')).body.toString(), /index-abc123/);
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>berth</title><script type="module" src="/ui/assets/index-def456.js"></script><!-- rebuilt -->');
  assert.match((await get(base, '/ui/')).body.toString(), /index-def456/);
});
