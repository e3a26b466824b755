// A service with no ready replica answers 503 with a reason a client can act on (starting, init-failed) in a header and
// the JSON body, and a Retry-After from what the plane knows (the start-up time, the back-off) — none when a retry cannot help.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { gatedSource } from '../helpers/gate.js';
import { fixture, startPlane, stopPlane, until, type Plane } from '../helpers/services.js';

after(cleanup);

interface Unavailable { code: string; reason: string; retry_after_s: number | null; detail: string; request_id: string }

async function scoreOnce(p: Plane, name: string): Promise<{ status: number; reason: string | null; retryAfter: string | null; body: Unavailable }> {
  const res = await fetch(`${p.url}/api/v1/service/${name}/score`, { method: 'POST', body: '{"data": [[1, 2]]}', headers: { 'x-request-id': `probe-${name}` } });
  return { status: res.status, reason: res.headers.get('x-berth-reason'), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Unavailable };
}

test('starting: 503 reason starting with a Retry-After from the expected start-up, then 200 once the replica is ready', async (t) => {
  const p = await startPlane(['--capacity', 'cpu=4,memory_gb=8']);
  t.after(() => stopPlane(p));
  const src = gatedSource();
  await p.ok(['deploy', '--name', 'patient', '--entry-script', src.script, '--source-dir', src.dir, '--replicas', '1', '--no-auth', '--no-wait']);
  await until(async () => ((await p.show('patient')).replicas[0]?.phase?.name === 'init' ? true : undefined), 30_000, 'the replica in init()');
  const r = await scoreOnce(p, 'patient');
  assert.equal(r.status, 503);
  assert.equal(r.reason, 'starting');
  assert.deepEqual([r.body.code, r.body.reason, r.body.request_id], ['NO_READY_REPLICA', 'starting', 'probe-patient']);
  // No start-up seen yet for this service: the default guess of 5 s, less the time it has been starting.
  assert.match(r.retryAfter ?? '', /^[1-5]$/);
  assert.equal(Number(r.retryAfter), r.body.retry_after_s);
  assert.match(r.body.detail, /1 replica\(s\) starting \(init\); start-up takes about 5 s here/);
  src.release();
  await until(async () => ((await fetch(`${p.url}/api/v1/service/patient/score`, { method: 'POST', body: '{"data": [[1]]}' })).status === 200 ? true : undefined), 30_000, 'a 200 once ready');
});

test('init-failed: retrying with the back-off in Retry-After; a failure that repeats every time has no Retry-After', async (t) => {
  const p = await startPlane(['--capacity', 'cpu=4,memory_gb=8', '--restart-backoff', '10s']);
  t.after(() => stopPlane(p));
  const deploy = (name: string, script: string) => p.cli(['deploy', '--name', name, '--entry-script', script, '--source-dir', fixture('.'), '--replicas', '1', '--no-auth']);

  assert.equal((await deploy('flaky', 'init_fails.py')).code, 1);
  const flaky = await until(async () => {
    const r = await scoreOnce(p, 'flaky');
    return r.reason === 'init-failed' ? r : undefined;
  }, 20_000, 'reason init-failed while it backs off');
  assert.equal(flaky.status, 503);
  assert.match(flaky.body.detail, /init\(\) failed: ValueError: bad init.*; retrying \(1 replica\(s\) in back-off\)/);
  // The next attempt is at most the 10 s back-off away, plus the time a start takes.
  assert.ok(flaky.body.retry_after_s !== null && flaky.body.retry_after_s >= 1 && flaky.body.retry_after_s <= 16, String(flaky.body.retry_after_s));
  assert.equal(flaky.retryAfter, String(flaky.body.retry_after_s));

  assert.equal((await deploy('broken', 'syntax_error.py')).code, 1);
  const broken = await scoreOnce(p, 'broken');
  assert.deepEqual([broken.status, broken.reason, broken.body.reason, broken.body.retry_after_s], [503, 'init-failed', 'init-failed', null]);
  assert.equal(broken.retryAfter, null, 'no Retry-After: waiting cannot help');
  assert.match(broken.body.detail, /init\(\) failed: SyntaxError.*not restarted \(it fails the same way every time\): fix the script and update the service/);
});
