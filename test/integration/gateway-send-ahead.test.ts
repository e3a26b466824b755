// Send-ahead through the gateway on real replicas: a request waits in a busy replica, yet never runs beside another at
// max concurrent 1, still gets its queue-wait 503 on time, moves to a replica that frees, and when its replica is
// killed or replaced it runs once, elsewhere, in arrival order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, tempDir } from '../helpers/control-plane.js';
import { gate, type Gate } from '../helpers/gate.js';
import { fixture, startPlane, stopPlane, until, type Plane } from '../helpers/services.js';

after(cleanup);

interface Mark {
  readonly what: 'start' | 'end';
  readonly tag: string;
  readonly pid: number;
}

/** A source dir with marker_score.py; `hold`: only the first replica finishes init() at once, the others wait for it. */
function markerSource(hold?: Gate): string {
  const dir = tempDir('berth-marker-src-');
  copyFileSync(fixture('marker_score.py'), join(dir, 'marker_score.py'));
  if (hold !== undefined) writeFileSync(join(dir, 'hold.path'), `${tempDir('berth-hold-')} ${hold.path}\n`);
  return dir;
}

function marks(log: string): Mark[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => {
    const [what, tag, pid] = l.split(' ');
    return { what: what as Mark['what'], tag: tag!, pid: Number(pid) };
  });
}

const startsOf = (log: string, tag: string): Mark[] => marks(log).filter((m) => m.what === 'start' && m.tag === tag);

/** Requests waiting in a replica for its worker (its /ready says). */
async function queuedIn(replicaUrl: string): Promise<number> {
  const r = await fetch(`${replicaUrl}/ready`);
  return ((await r.json()) as { queued: number }).queued;
}

interface Scorer {
  readonly uri: string;
  post(body: Record<string, unknown>): Promise<{ status: number; body: { tag?: string; pid?: number; code?: string } }>;
}

async function deployMarkers(plane: Plane, name: string, src: string, flags: readonly string[]): Promise<Scorer> {
  await plane.ok(['deploy', '--name', name, '--source-dir', src, '--entry-script', 'marker_score.py', '--no-auth', '--max-concurrent-requests', '1', ...flags]);
  const uri = `${plane.url}/api/v1/service/${name}/score`;
  return {
    uri,
    post: async (body) => {
      const r = await fetch(uri, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(60_000) });
      return { status: r.status, body: (await r.json()) as { tag?: string; pid?: number; code?: string } };
    },
  };
}

/** No run starts while another runs: every start is followed by its own end before the next start. */
function assertNoOverlap(all: readonly Mark[]): void {
  let running: string | undefined;
  for (const m of all) {
    if (m.what === 'start') {
      assert.equal(running, undefined, `${m.tag} started while ${running} ran`);
      running = m.tag;
    } else {
      assert.equal(m.tag, running, `${m.tag} ended while ${running} ran`);
      running = undefined;
    }
  }
}

test('max concurrent 1: a request sent ahead waits in the replica, yet no two requests ever run at once', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const svc = await deployMarkers(plane, 'single', markerSource(), ['--replicas', '1', '--max-request-wait-ms', '30000']);
  const replica = (await plane.show('single')).replicas[0]!.url!;
  const log = join(tempDir('berth-marks-'), 'marks');
  const held = gate();
  const a = svc.post({ tag: 'A', log, until_file: held.path });
  await until(() => (startsOf(log, 'A').length === 1 ? true : undefined), 20_000, 'A running');
  const b = svc.post({ tag: 'B', log });
  // B was handed to the replica while A runs: it waits there for the worker, not in the gateway.
  await until(async () => ((await queuedIn(replica)) === 1 ? true : undefined), 20_000, 'B waiting in the replica');
  const c = svc.post({ tag: 'C', log });
  held.release();
  assert.deepEqual((await Promise.all([a, b, c])).map((r) => [r.status, r.body.tag]), [[200, 'A'], [200, 'B'], [200, 'C']]);
  // Many at once: the gateway keeps the replica fed ahead; still one run at a time.
  const many = await Promise.all(Array.from({ length: 40 }, (_, i) => svc.post({ tag: `m${i}`, log, seconds: 0.002 })));
  assert.ok(many.every((r) => r.status === 200), JSON.stringify(many.filter((r) => r.status !== 200)));
  const all = marks(log);
  assert.deepEqual(all.filter((m) => m.what === 'start').slice(0, 3).map((m) => m.tag), ['A', 'B', 'C']);
  assertNoOverlap(all);
  assert.equal(all.filter((m) => m.what === 'start').length, 43, 'each request ran once');
});

test('a request sent ahead still gets its queue-wait 503 within max_request_wait_time plus 100 ms, unstarted', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const waitMs = 1500;
  const svc = await deployMarkers(plane, 'waiter', markerSource(), ['--replicas', '1', '--max-request-wait-ms', String(waitMs)]);
  const replica = (await plane.show('waiter')).replicas[0]!.url!;
  const log = join(tempDir('berth-marks-'), 'marks');
  const held = gate();
  const a = svc.post({ tag: 'A', log, until_file: held.path });
  await until(() => (startsOf(log, 'A').length === 1 ? true : undefined), 20_000, 'A running');
  const sent = performance.now();
  const b = svc.post({ tag: 'B', log }).then((r) => ({ ...r, ms: performance.now() - sent }));
  await until(async () => ((await queuedIn(replica)) === 1 ? true : undefined), waitMs, 'B waiting in the replica');
  const turnedAway = await b;
  assert.equal(turnedAway.status, 503);
  assert.equal(turnedAway.body.code, 'SERVICE_OVERLOADED');
  assert.ok(turnedAway.ms >= waitMs - 50 && turnedAway.ms <= waitMs + 100, `answered after ${turnedAway.ms.toFixed(0)} ms (limit ${waitMs} ms)`);
  held.release();
  assert.equal((await a).status, 200);
  assert.equal(startsOf(log, 'B').length, 0, 'B never ran');
});

test('fairness: a request waiting behind a slow one moves to the replica that frees first', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const svc = await deployMarkers(plane, 'pair', markerSource(), ['--replicas', '2', '--max-request-wait-ms', '30000']);
  const replicas = (await plane.show('pair')).replicas.map((r) => r.url!);
  const log = join(tempDir('berth-marks-'), 'marks');
  const slow = gate();
  const quick = gate();
  const a = svc.post({ tag: 'A', log, until_file: slow.path });
  await until(() => (startsOf(log, 'A').length === 1 ? true : undefined), 20_000, 'A running');
  const b = svc.post({ tag: 'B', log, until_file: quick.path });
  await until(() => (startsOf(log, 'B').length === 1 ? true : undefined), 20_000, 'B running');
  const c = svc.post({ tag: 'C', log });
  await until(async () => ((await Promise.all(replicas.map(queuedIn))).some((n) => n === 1) ? true : undefined), 20_000, 'C waiting in a replica');
  quick.release();
  // C runs as soon as B's replica is free, whichever replica it waited in, while A still runs.
  const cDone = await c;
  assert.equal(cDone.status, 200);
  assert.equal(cDone.body.pid, startsOf(log, 'B')[0]!.pid);
  assert.equal(marks(log).filter((m) => m.tag === 'A' && m.what === 'end').length, 0, 'A was still running');
  slow.release();
  assert.deepEqual([(await a).status, (await b).status], [200, 200]);
  assert.equal(startsOf(log, 'C').length, 1);
});

test('a replica killed with a request waiting in it: the running one gets 502, the rest run once, elsewhere, in arrival order', async (t) => {
  // A long back-off: the killed replica stays down, so the one that joins later serves what it held.
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8,gpu=1', '--schedule-timeout', '3s', '--restart-backoff', '60s']);
  t.after(() => stopPlane(plane));
  const second = gate();
  const svc = await deployMarkers(plane, 'victim', markerSource(second), ['--replicas', '2', '--max-request-wait-ms', '60000', '--no-wait']);
  const first = await until(async () => (await plane.show('victim')).replicas.find((r) => r.state === 'Ready'), 30_000, 'one replica ready');
  const log = join(tempDir('berth-marks-'), 'marks');
  const a = svc.post({ tag: 'A', log, until_file: gate().path });
  await until(() => (startsOf(log, 'A').length === 1 ? true : undefined), 20_000, 'A running');
  const c = svc.post({ tag: 'C', log });
  await until(async () => ((await queuedIn(first.url!)) === 1 ? true : undefined), 20_000, 'C waiting in the replica');
  const queued = async (n: number): Promise<void> => { await until(async () => ((await plane.show('victim')).traffic.queued === n ? true : undefined), 20_000, `${n} waiting in the gateway`); };
  const d = svc.post({ tag: 'D', log });
  await queued(1);
  const e = svc.post({ tag: 'E', log });
  await queued(2);
  process.kill(-first.pid!, 'SIGKILL'); // the whole process group: berth serve and its Python worker
  const killed = await a;
  assert.equal(killed.status, 502);
  assert.equal(killed.body.code, 'REPLICA_REQUEST_FAILED');
  await queued(3); // C is back in the gateway's queue
  second.release();
  const served = await Promise.all([c, d, e]);
  assert.deepEqual(served.map((r) => [r.status, r.body.tag]), [[200, 'C'], [200, 'D'], [200, 'E']]);
  const survivor = served[0]!.body.pid!;
  assert.ok(served.every((r) => r.body.pid === survivor) && survivor !== startsOf(log, 'A')[0]!.pid, 'served by the other replica');
  assert.deepEqual(marks(log).filter((m) => m.what === 'start').map((m) => m.tag), ['A', 'C', 'D', 'E'], 'each ran once, in arrival order');
});

test('an update drains the old replica: a request waiting in it runs on the new one, and the running one finishes', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const svc = await deployMarkers(plane, 'rolling', markerSource(), ['--replicas', '1', '--max-request-wait-ms', '60000']);
  const old = (await plane.show('rolling')).replicas[0]!;
  const log = join(tempDir('berth-marks-'), 'marks');
  const held = gate();
  const a = svc.post({ tag: 'A', log, until_file: held.path });
  await until(() => (startsOf(log, 'A').length === 1 ? true : undefined), 20_000, 'A running');
  const c = svc.post({ tag: 'C', log });
  await until(async () => ((await queuedIn(old.url!)) === 1 ? true : undefined), 20_000, 'C waiting in the replica');
  const update = plane.cli(['service', 'update', 'rolling', '--scoring-timeout-ms', '50000']);
  const moved = await c;
  assert.equal(moved.status, 200);
  assert.notEqual(moved.body.pid, startsOf(log, 'A')[0]!.pid, 'C ran on the new replica');
  held.release();
  assert.equal((await a).status, 200, 'the drain let A finish');
  const done = await update;
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(marks(log).filter((m) => m.what === 'start').map((m) => m.tag).sort(), ['A', 'C'], 'each ran once');
});
