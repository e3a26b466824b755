// Pre-started replica processes: the runtime contract on runs that take a standby, what a run gets from it, and that no standby outlives its control plane.
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureSpec, testSupervisor, until, type TestSupervisor } from '../helpers/local-target.js';
import { replicaRuntimeContract } from '../contract/replica-runtime.js';
import { startedAsStandby } from '../../src/targets/local/standby.js';
import { post } from '../helpers/serve-process.js';
import { cleanup, down, isAlive, ok, tempDir, up } from '../helpers/control-plane.js';
import { fixture } from '../helpers/serve-process.js';

after(cleanup);

replicaRuntimeContract({
  name: 'process, pre-started',
  skip: () => Promise.resolve(undefined),
  supervisor: (o = {}) => testSupervisor({ standby: true, ...(o.backoffMs === undefined ? {} : { backoff: { baseMs: o.backoffMs, capMs: o.backoffMs * 4, resetAfterMs: 60_000 } }) }),
  spec: (script, overrides = {}) => Promise.resolve(fixtureSpec(script, overrides)),
});

/** Pids of `berth serve --standby` processes whose working directory is under `dir` (still waiting: not yet a run). */
function standbysUnder(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (startedAsStandby(argv) && readlinkSync(`/proc/${name}/cwd`).startsWith(dir)) found.push(Number(name));
    } catch {
      // it ended while we looked
    }
  }
  return found;
}

/** A supervisor with its standby waiting, then where_score.py started with `env`: the Started event and the first answer. */
async function runWhereScore(t: TestContext, env: Record<string, string>): Promise<{ s: TestSupervisor; started: string; res: Awaited<ReturnType<typeof post>> }> {
  const s = testSupervisor({ standby: true });
  t.after(() => s.cleanup());
  await until(() => standbysUnder(s.logDir).length === 1, 20_000, 'a standby waiting');
  const spec = fixtureSpec('where_score.py', { env });
  s.sup.start(spec);
  const started = await s.waitForEvent('Started', (e) => e.replicaId === spec.replicaId);
  assert.equal((await s.sup.waitForStart(spec.replicaId)).outcome, 'ready');
  const res = await post(`${s.sup.get(spec.replicaId)!.url}/score`, '{}');
  return { s, started: started.message, res };
}

test('a run takes the pre-started process: it says so, and runs in the spec\'s directory with the spec\'s variables, its output in its log', async (t) => {
  const { s, started, res } = await runWhereScore(t, { GREETING: 'hello from the spec' });
  assert.match(started, /pre-started/);
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { cwd: fixture('.').replace(/\/$/, ''), greeting: 'hello from the spec', node_options: null });
  assert.match(s.sup.readLog('test-svc', s.events.find((e) => e.type === 'Started')!.replicaId, 'init'), /where_score init in /);
  // The next standby is started shortly after, for the next run.
  await until(() => standbysUnder(s.logDir).length === 1, 20_000, 'the next standby waiting');
});

test('a service that sets a variable Node reads only as it starts (NODE_OPTIONS) gets a process of its own', async (t) => {
  const { s, started, res } = await runWhereScore(t, { NODE_OPTIONS: '--max-old-space-size=200' });
  assert.doesNotMatch(started, /pre-started/);
  assert.equal((res.json as { node_options: string }).node_options, '--max-old-space-size=200');
  assert.equal(standbysUnder(s.logDir).length, 1, 'the standby still waits');
});

test('no standby outlives its control plane: berth down ends it, and so does the plane being killed', async () => {
  const home = tempDir();
  const plane = await up(home);
  await until(() => standbysUnder(home).length === 1, 20_000, 'the plane\'s standby waiting');
  await down(home);
  await until(() => standbysUnder(home).length === 0, 20_000, 'no standby after berth down');

  const again = await up(home);
  await until(() => standbysUnder(home).length === 1, 20_000, 'the new plane\'s standby waiting');
  const [standby] = standbysUnder(home);
  process.kill(again.pid, 'SIGKILL');
  // Its standard input ends with the plane: it leaves by itself.
  await until(() => !isAlive(standby!), 20_000, 'the standby gone after the plane was killed');
  assert.equal(isAlive(plane.pid), false);
  // Its output file stays behind until the next plane starts, which keeps only its own standby's.
  const standbyDir = join(home, 'logs', 'replicas', '.standby');
  assert.equal(readdirSync(standbyDir).length, 1);
  const third = await up(home);
  await until(() => standbysUnder(home).length === 1, 20_000, 'the third plane\'s standby waiting');
  assert.deepEqual(readdirSync(standbyDir), [`standby-${third.pid}-1.log`]);
  await down(home);
});

test('berth up --no-replica-standby keeps none: a deployed replica is a process of its own', async () => {
  const home = tempDir();
  const plane = await up(home, ['--no-replica-standby']);
  await ok(['deploy', '--name', 'own-process', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--no-auth'], home);
  const { events } = await (await fetch(`${plane.url}/v1/services/own-process/events`)).json() as { events: { type: string; message: string }[] };
  const started = events.filter((e) => e.type === 'Started');
  assert.equal(started.length, 1);
  assert.doesNotMatch(started[0]!.message, /pre-started/);
  assert.deepEqual(standbysUnder(home), []);
  await down(home);
});

test('a plane with its standby (the default) deploys a replica from it', async () => {
  const home = tempDir();
  const plane = await up(home);
  await until(() => standbysUnder(home).length === 1, 20_000, 'the plane\'s standby waiting');
  await ok(['deploy', '--name', 'pre-started', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--no-auth'], home);
  const { events } = await (await fetch(`${plane.url}/v1/services/pre-started/events`)).json() as { events: { type: string; message: string }[] };
  assert.match(events.find((e) => e.type === 'Started')!.message, /pre-started/);
  const res = await post(`${plane.url}/api/v1/service/pre-started/score`, JSON.stringify({ data: [[1, 2, 3]] }));
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { result: [6] });
  await down(home);
});
