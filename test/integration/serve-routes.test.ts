// berth serve: routes, request ids, body checks, access log, worker output, swagger and metrics, with a real Python worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, get, post, startServe, type ServeProcess } from '../helpers/serve-process.js';

describe('berth serve routes (sum_score.py, 1 Python worker)', () => {
  let server: ServeProcess;
  before(async () => {
    server = await startServe(['--entry-script', fixture('sum_score.py'), '--max-request-size-mb', '0.01']);
  });
  after(async () => { await server.stop(); });

  test('POST /score runs run() on the body and returns its JSON', async () => {
    const res = await post(`${server.url}/score`, JSON.stringify({ data: [[1, 2], [3, 4]] }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { result: [3, 7] });
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(res.headers.get('x-ms-run-function-failed'), 'False');
  });

  test('GET / is liveness and GET /ready gives each worker phase', async () => {
    const live = await get(`${server.url}/`);
    assert.equal(live.status, 200);
    assert.equal(live.text, 'Healthy');
    const ready = await get(`${server.url}/ready`);
    assert.equal(ready.status, 200);
    const { since, elapsed_ms: elapsed, ...rest } = ready.json as { since: string; elapsed_ms: number };
    assert.deepEqual(rest, { ready: true, phase: 'ready', queued: 0, workers: [{ id: 1, phase: 'ready', busy: false, in_flight: 0 }] });
    assert.ok(Date.parse(since) <= Date.now() && elapsed >= 0);
  });

  test('request ids are echoed, or generated when absent, as the classic server does', async () => {
    const ids = (r: { headers: Headers }) => ['x-request-id', 'x-ms-request-id', 'x-ms-client-request-id'].map((h) => r.headers.get(h));
    const given = await post(`${server.url}/score`, '{"data": [[1]]}', { 'x-request-id': 'abc-123', 'x-ms-client-request-id': 'client-9' });
    // x-ms-request-id, the deprecated name of the client's id, repeats x-ms-client-request-id when not sent itself.
    assert.deepEqual(ids(given), ['abc-123', 'client-9', 'client-9']);
    const all = await post(`${server.url}/score`, '{"data": [[1]]}', { 'x-request-id': 'abc-123', 'x-ms-request-id': 'legacy-1', 'x-ms-client-request-id': 'client-9' });
    assert.deepEqual(ids(all), ['abc-123', 'legacy-1', 'client-9']);
    // Sent alone, it is echoed and stands in for the client id; the request id is a new one.
    const legacyOnly = await post(`${server.url}/score`, '{"data": [[1]]}', { 'x-ms-request-id': 'legacy-1' });
    const [rid, legacy, client] = ids(legacyOnly);
    assert.match(rid ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual([legacy, client], ['legacy-1', 'legacy-1']);
    const generated = await post(`${server.url}/score`, '{"data": [[1]]}');
    const [gid, glegacy, gclient] = ids(generated);
    assert.match(gid ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual([glegacy, gclient], [gid, null]);
  });

  test('a request id over 100 characters gets 431', async () => {
    const res = await post(`${server.url}/score`, '{}', { 'x-ms-client-request-id': 'x'.repeat(101) });
    assert.equal(res.status, 431);
    assert.equal((res.json as { code: string }).code, 'REQUEST_ID_TOO_LONG');
  });

  test('unknown path 404 and wrong method 405, both JSON with code and request id', async () => {
    const missing = await get(`${server.url}/nope`, { 'x-request-id': 'r404' });
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.json as object).sort(), ['code', 'fix', 'message', 'request_id']);
    assert.equal((missing.json as { request_id: string }).request_id, 'r404');
    const wrong = await fetch(`${server.url}/score`, { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(((await wrong.json()) as { code: string }).code, 'METHOD_NOT_ALLOWED');
  });

  test('a body that is not UTF-8 gets 400', async () => {
    const res = await post(`${server.url}/score`, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    assert.equal(res.status, 400);
    assert.equal((res.json as { code: string }).code, 'BODY_NOT_UTF8');
  });

  test('a body over the limit gets 413, and the server keeps serving', async () => {
    const res = await post(`${server.url}/score`, 'x'.repeat(20_000));
    assert.equal(res.status, 413);
    assert.equal((res.json as { code: string }).code, 'BODY_TOO_LARGE');
    const ok = await post(`${server.url}/score`, '{"data": [[2, 2]]}');
    assert.deepEqual(ok.json, { result: [4] });
  });

  test('each request is logged on one line with method, path, status, duration, size and request id', async () => {
    await post(`${server.url}/score`, '{"data": [[5]]}', { 'x-request-id': 'logged-1' });
    const line = await server.waitForLog((l) => l.request_id === 'logged-1' && l.msg === 'request');
    assert.equal(line.method, 'POST');
    assert.equal(line.path, '/score');
    assert.equal(line.status, 200);
    assert.equal(typeof line.duration_ms, 'number');
    assert.equal(typeof line.bytes, 'number');
  });

  test('print() and logging from the entry script land in the log tagged with the worker', async () => {
    await server.waitForLog((l) => l.worker === 1 && String(l.msg).includes('sum_score init done'));
    await post(`${server.url}/score`, '{"data": [[1]], "log": true}');
    const logged = await server.waitForLog((l) => l.worker === 1 && l.stream === 'stderr' && String(l.msg).includes('sum_score'));
    assert.ok(logged);
  });

  test('GET /swagger.json describes /score', async () => {
    const res = await get(`${server.url}/swagger.json`);
    assert.equal(res.status, 200);
    const doc = res.json as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    assert.ok('/score' in doc.paths);
  });

  test('GET /metrics counts requests by status and exposes latency, queue wait and busy workers', async () => {
    const res = await get(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.text, /berth_requests_total\{status="200"\} \d+/);
    assert.match(res.text, /berth_requests_total\{status="413"\} 1/);
    assert.match(res.text, /berth_request_duration_seconds_bucket/);
    assert.match(res.text, /berth_queue_wait_seconds_count \d+/);
    assert.match(res.text, /berth_workers_busy 0/);
  });
});
