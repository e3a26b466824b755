// Captured failed requests through a real control plane: limits and redaction on disk, a restart keeps them, a 504 too,
// delete removes them, and `service debug --replay` raises the very exception in the service's snapshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { CapturedList, CapturedWhole } from '../../src/control/api/capture-routes.js';
import { cleanup, down, tempDir, up } from '../helpers/control-plane.js';
import { fixture, score, startPlane, stopPlane, until, withCli, type Plane } from '../helpers/services.js';

let plane: Plane;
const home = tempDir('berth-capture-');
before(async () => { plane = await startPlane(undefined, home); });
after(async () => {
  await stopPlane(plane);
  cleanup();
});

const list = async (name: string): Promise<CapturedList> => JSON.parse(await plane.ok(['service', 'requests', name, '--failed', '-o', 'json'])) as CapturedList;
const whole = async (name: string, id: string): Promise<CapturedWhole> => JSON.parse(await plane.ok(['service', 'requests', name, id, '-o', 'json'])) as CapturedWhole;

/** Every file the plane keeps for captures, as text: what must hold no secret. */
function capturedFiles(): string {
  const root = join(home, 'captures');
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).map((f) => join(root, f)).filter((f) => statSync(f).isFile()).map((f) => readFileSync(f, 'utf8')).join('\n');
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
}

test('5xx requests are kept redacted and within the ring\'s limits, with replica and traceback; a restart keeps them', async () => {
  const deploy = await plane.cli(['deploy', '--name', 'div', '--entry-script', 'divide_score.py', '--source-dir', fixture('.'), '--replicas', '1',
    '--capture-failures', '--capture-max-requests', '3', '--capture-redact', 'password', '--capture-redact', 'x-api-key']);
  assert.equal(deploy.code, 0, deploy.stderr);
  const svc = await plane.show('div');
  const key = svc.keys.primary;
  assert.equal((await score(svc.scoring_uri, { x: 1 }, key)).status, 200);
  for (let i = 1; i <= 5; i++) {
    const r = await score(svc.scoring_uri, { x: 0, n: i, login: { password: `hunter2-${i}` } }, key, { 'x-request-id': `cap-${i}`, 'x-api-key': 'k-secret' });
    assert.equal(r.status, 502);
  }
  // Only the newest three are kept; each gets its traceback once the replica's log line is read.
  const l = await until(async () => { const x = await list('div'); return x.requests.length === 3 && x.requests.every((r) => r.traceback !== undefined) ? x : undefined; }, 20_000, 'three captures with tracebacks');
  assert.deepEqual(l.requests.map((r) => r.request_id), ['cap-5', 'cap-4', 'cap-3']);
  assert.deepEqual(l.capture, { enabled: true, max_requests: 3, max_mb: 10, redact: ['password', 'x-api-key'] });
  const replica = svc.replicas[0]!.id;
  for (const r of l.requests) {
    assert.equal(r.status, 502);
    assert.equal(r.replica, replica);
    assert.equal(r.generation, 1);
    assert.equal(r.path, '/score');
    assert.equal(r.headers.authorization, '[redacted]');
    assert.equal(r.headers['x-api-key'], '[redacted]');
    assert.match(r.traceback!, /divide_score\.py", line \d+, in run\n.*\n[\s\S]*ZeroDivisionError: division by zero/);
    assert.equal(r.error, 'run() raised ZeroDivisionError: division by zero');
  }
  const one = await whole('div', 'cap-5');
  assert.equal(one.body, '{"x":0,"n":5,"login":{"password":"[redacted]"}}');
  assert.deepEqual(one.redacted, ['header authorization', 'header x-api-key', 'body.login.password']);
  const files = capturedFiles();
  assert.ok(files.includes('cap-5'), 'the captures are files under the home');
  for (const secret of ['hunter2', key, 'k-secret']) assert.ok(!files.includes(secret), `${secret} written to disk`);
  const table = await plane.ok(['service', 'requests', 'div', '--failed']);
  assert.match(table, /^3 failed request\(s\) of div, .* kept \(at most 3 requests, 10 MiB\); redacted: authorization, password, x-api-key\n/);
  assert.match(table, /cap-5 +502 +div-1-0-\S+ +\d+ B +run\(\) raised ZeroDivisionError: division by zero/);
  const text = await plane.ok(['service', 'requests', 'div', 'cap-4']);
  assert.match(text, /traceback:\nTraceback \(most recent call last\):/);
  assert.match(text, /replay it locally: berth service debug div --replay cap-4/);
  const missing = await plane.cli(['service', 'requests', 'div', 'cap-1']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no captured request cap-1 for service div/);

  // The ring is files under the home: a restarted control plane lists the same captures.
  await down(home);
  plane = withCli(await up(home, ['--capacity', 'cpu=4,memory_gb=8,gpu=1', '--schedule-timeout', '3s']));
  assert.deepEqual((await list('div')).requests.map((r) => [r.request_id, r.traceback !== undefined]), [['cap-5', true], ['cap-4', true], ['cap-3', true]]);
  // A lower limit applies at once; show names the settings.
  await plane.ok(['service', 'update', 'div', '--capture-max-requests', '2']);
  assert.deepEqual((await list('div')).requests.map((r) => r.request_id), ['cap-5', 'cap-4']);
  assert.match(await plane.ok(['service', 'show', 'div']), /\ncapture: +failed requests, at most 2 \/ 10 MiB, redacting authorization, password, x-api-key \(berth service requests div\)\n/);
});

test('replay: the captured request raises the same exception in the service\'s snapshot, run locally; the reply alone on stdout', async () => {
  const captured = await whole('div', 'cap-4');
  const port = await freePort();
  const run = await plane.cli(['service', 'debug', 'div', '--replay', 'cap-4', '--port', String(port)], 60_000);
  assert.equal(run.code, 0, run.stderr);
  const [head, body] = run.stdout.split('\n\n', 2) as [string, string];
  assert.match(head, /^HTTP\/1\.1 500 Internal Server Error\n/);
  assert.match(head, /\nx-request-id: cap-4\n/);
  const reply = JSON.parse(body) as { code: string; exception: string; traceback: string; request_id: string };
  assert.equal(reply.code, 'RUN_FAILED');
  assert.equal(`run() raised ${reply.exception}`, captured.error, 'the same exception as in production');
  const last = (tb: string): string => tb.trimEnd().split('\n').slice(-3).join('\n');
  assert.equal(last(reply.traceback), last(captured.traceback!), 'raised on the same line');
  assert.match(run.stderr, /replaying request cap-4 \(POST \/score, answered 502 at \S+ by replica div-1-0-\S+\)/);
  assert.match(run.stderr, /note: request cap-4 failed on generation 1; the service runs generation 2 now/);
  const gone = await plane.cli(['service', 'debug', 'div', '--replay', 'cap-1', '--port', String(port)]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /no captured request cap-1 for service div/);
});

test('a scoring timeout (504) is captured with what the replica logged; deleting the service removes its captures', async () => {
  const deploy = await plane.cli(['deploy', '--name', 'slow', '--entry-script', 'sleep_score.py', '--source-dir', fixture('.'), '--replicas', '1', '--no-auth',
    '--scoring-timeout-ms', '300', '--capture-failures']);
  assert.equal(deploy.code, 0, deploy.stderr);
  const svc = await plane.show('slow');
  // A file that never appears: the request is held until the replica's timeout ends it.
  const r = await score(svc.scoring_uri, { until_file: join(tempDir('berth-never-'), 'never') }, undefined, { 'x-request-id': 'slow-1' });
  assert.equal(r.status, 504);
  const c = await until(async () => (await list('slow')).requests.find((x) => x.error !== undefined), 20_000, 'the 504 with its log line');
  assert.equal(c.request_id, 'slow-1');
  assert.equal(c.status, 504);
  assert.match(c.error!, /^scoring timeout after 300 ms/);
  assert.equal(c.traceback, undefined);
  assert.ok(existsSync(join(home, 'captures', 'slow')));
  await plane.ok(['service', 'delete', 'slow']);
  // Removed when the plane sees the service gone, which may be just after the delete operation has answered.
  await until(() => (existsSync(join(home, 'captures', 'slow')) ? undefined : true), 10_000, 'the captures removed');
});
