// A replica SIGKILLed under continuous load: only the request in flight on it may fail (502); every other request is answered 200.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

interface Sent {
  readonly start: number;
  readonly end: number;
  readonly status: number;
  readonly body: string;
}

test('killing a replica under load loses no request that had not reached it', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  // Fixed replicas (the autoscaler stays out of it), one request at a time each, a generous wait.
  await plane.ok(['deploy', '--name', 'sturdy', '--source-dir', fixture('.'), '--entry-script', 'sleep_score.py', '--replicas', '3', '--max-request-wait-ms', '5000']);
  const show = await plane.show('sturdy');
  const victim = show.replicas[1]!;
  const headers = { authorization: `Bearer ${show.keys.primary}`, 'content-type': 'application/json' };

  const sent: Sent[] = [];
  let running = true;
  const clients = Array.from({ length: 4 }, async () => {
    while (running) {
      const start = performance.now();
      const res = await fetch(show.scoring_uri, { method: 'POST', body: '{"seconds": 0.15}', headers }).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        (err: Error) => ({ status: 0, body: err.message }),
      );
      sent.push({ start, end: performance.now(), ...res });
    }
  });
  await until(() => (sent.length >= 20 ? true : undefined), 20_000, '20 requests answered');
  const killedAt = performance.now();
  process.kill(victim.pid!, 'SIGKILL');
  // Keep the load on while the supervisor notices and restarts the replica.
  await until(() => (sent.filter((s) => s.start > killedAt).length >= 40 ? true : undefined), 30_000, '40 requests after the kill');
  running = false;
  await Promise.all(clients);

  const failed = sent.filter((s) => s.status !== 200);
  t.diagnostic(`${sent.length} requests, ${sent.filter((s) => s.start > killedAt).length} sent after the kill; failed: ${JSON.stringify(failed.map((f) => [f.status, f.body.slice(0, 120)]))}`);
  // At most the one request that was on the victim (one at a time per replica) fails, as a 502 naming it.
  assert.ok(failed.length <= 1, `${failed.length} failed`);
  for (const f of failed) {
    assert.equal(f.status, 502);
    assert.ok(f.start < killedAt, 'only a request sent before the kill');
    const body = JSON.parse(f.body) as { code: string; message: string };
    assert.equal(body.code, 'REPLICA_REQUEST_FAILED');
    assert.match(body.message, new RegExp(`replica ${victim.id} of service sturdy`));
  }
  const pids = new Set(sent.filter((s) => s.start > killedAt + 100 && s.status === 200).map((s) => (JSON.parse(s.body) as { pid: number }).pid));
  assert.ok(pids.size >= 2, 'the other replicas kept serving');
  const events = await plane.events('sturdy');
  assert.ok(events.some((e) => e.type === 'Exited' && e.replica === victim.id && /SIGKILL/.test(e.message)));
});
