// The access log line: one JSON object per request, whatever the client put in its path or request id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createAccessLog, jsonString } from '../../src/core/access-log.js';

test('jsonString gives what JSON.stringify gives, for plain and awkward strings alike', () => {
  for (const s of ['', '/score', 'POST', '3f2a-…', 'a"b', 'back\\slash', 'tab\there', 'nl\n', '\u0000', '\u007f', 'é', '\u2028', 'x'.repeat(100)]) {
    assert.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  }
});

test('each request is a line of valid JSON with method, path, status, duration, size and request id', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
  const log = pino({ name: 'test' }, sink);
  const access = createAccessLog(log);
  access({ method: 'POST', path: '/score', status: 200, durationMs: 1.234567, bytes: 11, requestId: 'plain-id' });
  access({ method: 'POST', path: '/score', status: 500, durationMs: 2, bytes: 40, requestId: 'quote"and\\slash' });
  access({ method: 'GET', path: '/p"ath', status: 404, durationMs: 0.5, bytes: 3, requestId: 'x' });
  await new Promise((r) => setImmediate(r));
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(parsed.length, 3);
  assert.deepEqual(parsed.map((p) => [p.method, p.path, p.status, p.duration_ms, p.bytes, p.request_id, p.msg, p.name, p.pid]), [
    ['POST', '/score', 200, 1.23, 11, 'plain-id', 'request', 'test', process.pid],
    ['POST', '/score', 500, 2, 40, 'quote"and\\slash', 'request', 'test', process.pid],
    ['GET', '/p"ath', 404, 0.5, 3, 'x', 'request', 'test', process.pid],
  ]);
});
