// Captured requests: the ring's limits (count and bytes, oldest dropped first), what survives a restart, and the hook that redacts before writing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { CaptureRing, type CapturedRequest } from '../../src/control/services/capture-store.js';
import { Captures } from '../../src/control/services/captures.js';
import type { ServiceSpec } from '../../src/control/services/spec.js';
import type { DiagLog } from '../../src/diagnose/types.js';
import { cleanup, tempDir } from '../helpers/control-plane.js';
import { until } from '../helpers/services.js';

after(cleanup);

const meta = (id: string): CapturedRequest => ({
  request_id: id, time: new Date(0).toISOString(), service: 'svc', method: 'POST', path: '/score', status: 502, headers: {}, body_bytes: 0, redacted: [],
});

test('the ring keeps at most max requests and max bytes, dropping the oldest, and reads the same back after a restart', async () => {
  const dir = join(tempDir('berth-ring-'), 'svc');
  const ring = new CaptureRing(dir);
  for (let i = 1; i <= 5; i++) await ring.add(meta(`r${i}`), Buffer.from(`body ${i}`), { maxRequests: 3, maxBytes: 1_000_000 });
  assert.deepEqual(ring.list().map((m) => m.request_id), ['r3', 'r4', 'r5']);
  assert.equal(readdirSync(dir).length, 6, 'a .json and a .body per capture, nothing of the dropped ones');
  // A byte budget that holds about two: the oldest go until the rest fits.
  const big = Buffer.alloc(400, 'x');
  const one = Buffer.byteLength(JSON.stringify(meta('b1'))) + big.length;
  for (const id of ['b1', 'b2', 'b3']) await ring.add(meta(id), big, { maxRequests: 100, maxBytes: 2 * one + 10 });
  assert.deepEqual(ring.list().map((m) => m.request_id), ['b2', 'b3']);
  assert.ok(ring.bytes() <= 2 * one + 10);
  // A half-written capture (a body without its metadata, a temp file) is not one: a restart removes it.
  writeFileSync(join(dir, '000000000099.body'), 'orphan');
  writeFileSync(join(dir, '000000000100.json.tmp'), '{');
  const again = new CaptureRing(dir);
  assert.deepEqual(again.list().map((m) => m.request_id), ['b2', 'b3']);
  assert.deepEqual((await again.find('b3'))?.body, big);
  assert.equal(await again.find('r1'), undefined);
  assert.ok(!readdirSync(dir).some((f) => f.startsWith('000000000099') || f.endsWith('.tmp')));
  await again.add(meta('c1'), undefined, { maxRequests: 2, maxBytes: 1_000_000 });
  assert.deepEqual(again.list().map((m) => m.request_id), ['b3', 'c1'], 'numbering goes on after a restart');
  await again.trim({ maxRequests: 1, maxBytes: 1_000_000 });
  assert.deepEqual(again.list().map((m) => m.request_id), ['c1'], 'lowered limits apply at once');
  assert.deepEqual(readdirSync(dir).sort(), ['000000000009.json']);
});

function captures(home: string, spec: Partial<ServiceSpec> | undefined, logs: DiagLog[] = []): Captures {
  return new Captures({
    root: join(home, 'captures'), now: () => new Date(), logger: pino({ level: 'silent' }),
    spec: (name) => (name === 'svc' && spec !== undefined ? ({ name: 'svc', ...spec } as ServiceSpec) : undefined),
    generationOf: () => 4,
    replicaLogs: () => logs,
  });
}

const failure = (requestId: string, body: string, headers: Record<string, string> = {}) => ({
  service: 'svc', requestId, method: 'POST', path: '/score?token=t1', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-live', ...headers },
  body: Buffer.from(body), status: 502, replica: 'svc-4-0-abc', response: Buffer.from('{"message":"run() raised","code":"RUN_FAILED"}'),
});

test('the hook keeps nothing for a service without capture_failures', async () => {
  const home = tempDir('berth-cap-');
  const c = captures(home, { capture_failures: undefined });
  c.onFailure(failure('off-1', '{}'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual((await c.list('svc', 10)).requests, []);
  c.close();
});

test('the hook redacts before writing: no secret reaches the disk; the traceback is found in the replica\'s log by request id', async () => {
  const home = tempDir('berth-cap-');
  const line = JSON.stringify({ level: 50, time: new Date().toISOString(), request_id: 'f-1', exception: 'KeyError', traceback: 'Traceback (most recent call last):\nKeyError: \'x\'\n', msg: 'run() raised KeyError: \'x\'' });
  const logs: DiagLog[] = [{ replica: 'svc-4-0-abc', kind: 'current', text: '' }];
  const c = captures(home, { capture_failures: true, capture_max_requests: 10, capture_max_mb: 1, capture_redact: ['password', 'x-api-key', 'token'] }, logs);
  c.onFailure(failure('f-1', JSON.stringify({ x: 1, login: { password: 'hunter2' } }), { 'x-api-key': 'k-123' }));
  const listed = await until(async () => (await c.list('svc', 10)).requests[0], 5000, 'the capture');
  assert.equal(listed.replica, 'svc-4-0-abc');
  assert.equal(listed.generation, 4);
  assert.equal(listed.headers.authorization, '[redacted]');
  assert.equal(listed.headers['x-api-key'], '[redacted]');
  assert.equal(listed.path, '/score?token=%5Bredacted%5D');
  assert.deepEqual(listed.redacted, ['header authorization', 'header x-api-key', 'query token', 'body.login.password']);
  const whole = await c.get('svc', 'f-1');
  assert.deepEqual(JSON.parse(whole.body!.toString()), { x: 1, login: { password: '[redacted]' } });
  const dir = join(home, 'captures', 'svc');
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const secret of ['hunter2', 'sk-live', 'k-123', 't1']) assert.ok(!text.includes(secret), `${secret} in ${f}`);
  }
  // The replica writes its line around its reply: it is looked for until it shows up.
  logs[0] = { ...logs[0]!, text: `${line}\n` };
  const tb = await until(async () => (await c.list('svc', 10)).requests[0]?.traceback, 5000, 'the traceback');
  assert.match(tb, /KeyError: 'x'/);
  assert.equal((await c.get('svc', 'f-1')).meta.error, 'run() raised KeyError: \'x\'');
  c.close();
});

test('a body larger than the whole ring is not kept (the rest is); a failure storm cannot queue more than a ring holds', async () => {
  const home = tempDir('berth-cap-');
  const c = captures(home, { capture_failures: true, capture_max_requests: 100, capture_max_mb: 0.001, capture_redact: [] });
  c.onFailure(failure('big-1', JSON.stringify({ data: 'x'.repeat(2000) })));
  const m = await until(async () => (await c.list('svc', 10)).requests[0], 5000, 'the capture');
  assert.match(m.body_omitted ?? '', /larger than the whole ring/);
  assert.equal((await c.get('svc', 'big-1')).body, undefined);
  for (let i = 0; i < 50; i++) c.onFailure(failure(`s-${i}`, JSON.stringify({ data: 'y'.repeat(400) })));
  await new Promise((r) => setImmediate(r)); // the hook works after the reply: its captures are all queued by now
  const { requests, bytes } = await c.list('svc', 100);
  assert.ok(bytes <= 1048, `ring bytes ${bytes}`);
  assert.ok(requests.length >= 1 && requests.length < 50);
  await assert.rejects(c.get('svc', 'nope'), /no captured request nope for service svc/);
  c.close();
});
