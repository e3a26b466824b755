// Honest start-up: a replica says where it is (importing, init, warming) with its last output line, on berth serve's
// /ready and in service show; a warm-up request must be answered 2xx before a replica is Ready.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { gate, gatedSource } from '../helpers/gate.js';
import { fixture, runServeToExit, startServe, untilReady } from '../helpers/serve-process.js';
import { startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

interface ReadyReport { ready: boolean; phase: string; since: string; last_output?: string }

async function readyReport(url: string): Promise<{ status: number; body: ReadyReport }> {
  const res = await fetch(`${url}/ready`);
  return { status: res.status, body: (await res.json()) as ReadyReport };
}

test('berth serve answers /ready from the start: phase init with the last output line, then ready', async (t) => {
  const g = gate();
  // The server says where it is before its workers are ready: `probes on` comes first, `listening` when it serves.
  const server = await startServe(['--entry-script', fixture('gated_init.py')], { env: { BERTH_TEST_RELEASE_FILE: g.path }, waitFor: 'probes' });
  t.after(() => server.stop());
  const during = await until(async () => {
    const r = await readyReport(server.url);
    return r.body.phase === 'init' && r.body.last_output !== undefined ? r : undefined;
  }, 30_000, 'phase init with its output');
  assert.equal(during.status, 503);
  assert.match(during.body.last_output ?? '', /gated init: waiting for the test's release/);
  assert.ok(Date.parse(during.body.since) <= Date.now());
  g.release();
  await untilReady(server.url, (body, status) => status === 200 && body.ready, 'ready after the release');
  assert.equal((await readyReport(server.url)).body.phase, 'ready');
});

test('a warm-up request runs before the server is ready; one that run() does not answer 2xx fails the start', async () => {
  const ok = await startServe(['--entry-script', fixture('sum_score.py'), '--warmup-request', '{"data": [[1, 2]], "log": true}']);
  try {
    const warming = ok.logs.findIndex((l) => l.msg === 'warming up: sending the warm-up request');
    const listening = ok.logs.findIndex((l) => String(l.msg).startsWith('listening'));
    assert.ok(warming >= 0 && warming < listening, 'the warm-up ran before the server said it serves');
    // run() logged the warm-up request (its output reaches the log through a pipe, so it may come just after).
    await ok.waitForLog((l) => /sum_score run called with 1 rows/.test(String(l.msg)));
  } finally {
    await ok.stop();
  }
  const failed = await runServeToExit(['--entry-script', fixture('sum_score.py'), '--warmup-request', '{"nope": 1}']);
  assert.equal(failed.code, 3);
  assert.match(failed.stderr, /berth: the warm-up request failed \(worker 0\)/);
  assert.match(failed.stderr, /exception: WarmUpFailed: run\(\) raised KeyError on the warm-up request/);
});

test('a replica\'s phase shows in service show and as Phase events; a failing warm-up fails the deploy, retried as transient', async (t) => {
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8', '--restart-backoff', '1s']);
  t.after(() => stopPlane(plane));
  const src = gatedSource();
  await plane.ok(['deploy', '--name', 'patient', '--entry-script', src.script, '--source-dir', src.dir, '--replicas', '1', '--no-wait']);
  const starting = await until(async () => {
    const s = await plane.show('patient');
    return s.replicas[0]?.phase?.name === 'init' && s.replicas[0].phase.last_output !== undefined ? s : undefined;
  }, 30_000, 'phase init in service show');
  assert.match(starting.replicas[0]!.phase!.last_output!, /waiting for the test's release/);
  assert.match(await plane.ok(['service', 'show', 'patient']), /is starting: init for \d+ s; last output: gated init: waiting/);
  src.release();
  await until(async () => ((await plane.show('patient')).state === 'Healthy' ? true : undefined), 30_000, 'Healthy');
  const phases = (await plane.events('patient')).filter((e) => e.type === 'Phase').map((e) => e.message.split(';')[0]);
  assert.ok(phases.includes('Phase init'), phases.join(', '));
  assert.equal((await plane.show('patient')).replicas[0]?.phase, undefined, 'a ready replica has no start-up phase');

  const r = await plane.cli(['deploy', '--name', 'coldstart', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '1', '--warmup', '{"nope": 1}']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /crashed during init\(\): WarmUpFailed: run\(\) raised KeyError on the warm-up request.*\(CrashLoopBackOff\)/);
  await plane.ok(['deploy', '--name', 'warmed', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '1', '--warmup', '{"data": [[5, 5]]}', '--no-auth']);
  assert.equal((await plane.show('warmed')).state, 'Healthy');
});
