// Replica options end to end: source dir, relative entry script, env, model dir and workers; long requests vs probes; drain on stop; start-up timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTree } from '../../src/targets/local/proc-tree.js';
import { fixtureSpec, testSupervisor } from '../helpers/local-target.js';
import { post, untilReady } from '../helpers/serve-process.js';

const SCORE = `import json, os, time
greeting = None
def init():
    global greeting
    time.sleep(float(os.environ.get("INIT_SLEEP", "0")))
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.txt")) as f:
        greeting = os.environ["GREETING"] + " " + f.read().strip()
def run(raw):
    return {"greeting": greeting, "cwd": os.getcwd()}
`;

function sourceAndModel(t: import('node:test').TestContext): { src: string; model: string } {
  const root = mkdtempSync(join(tmpdir(), 'berth-local-src-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = join(root, 'src');
  const model = join(root, 'model');
  mkdirSync(src);
  mkdirSync(model);
  writeFileSync(join(src, 'score.py'), SCORE);
  writeFileSync(join(model, 'weights.txt'), 'world\n');
  return { src, model };
}

test('the spec reaches berth serve: relative entry script in the source dir, env, model dir, worker count', async (t) => {
  const { src, model } = sourceAndModel(t);
  const h = testSupervisor();
  t.after(() => h.cleanup());
  const spec = fixtureSpec('unused', { entryScript: 'score.py', sourceDir: src, modelDir: model, env: { GREETING: 'hello' }, workerCount: 2 });
  h.sup.start(spec);
  const outcome = await h.sup.waitForStart(spec.replicaId);
  assert.equal(outcome.outcome, 'ready');
  const res = await post(`${outcome.outcome === 'ready' ? outcome.url : ''}/score`, '{}');
  assert.deepEqual(res.json, { greeting: 'hello world', cwd: src });
  // serve plus two Python workers, all in the replica's tree.
  assert.ok(processTree(h.sup.get(spec.replicaId)!.pid!).length >= 3);
});

test('init() slower than the start-up timeout: killed, reported, restarted', async (t) => {
  const { src, model } = sourceAndModel(t);
  const h = testSupervisor({ readyTimeoutMs: 1500 });
  t.after(() => h.cleanup());
  const spec = fixtureSpec('unused', { entryScript: 'score.py', sourceDir: src, modelDir: model, env: { GREETING: 'x', INIT_SLEEP: '60' } });
  h.sup.start(spec);
  const outcome = await h.sup.waitForStart(spec.replicaId);
  assert.equal(outcome.outcome, 'failed');
  if (outcome.outcome === 'failed') {
    assert.equal(outcome.termination.reason, 'StartupTimeout');
    assert.equal(outcome.termination.signal, 'SIGKILL');
  }
  const timeout = await h.waitForEvent('StartupTimeout');
  assert.equal(timeout.timeoutMs, 1500);
  await h.waitForEvent('Started', (e) => e.attempt === 2);
});

test('a long run() does not fail liveness (GET / is answered by serve), and stop() lets the in-flight request finish', async (t) => {
  const h = testSupervisor();
  t.after(() => h.cleanup());
  const spec = fixtureSpec('sleep_score.py', { liveness: { periodS: 0.2, timeoutS: 0.5, failureThreshold: 2, successThreshold: 1 } });
  h.sup.start(spec);
  const ready = await h.waitForEvent('Ready');
  assert.equal((await post(`${ready.url}/score`, JSON.stringify({ seconds: 1.2 }))).status, 200);
  assert.equal(h.events.filter((e) => e.type === 'ProbeFailed').length, 0);

  const inflight = post(`${ready.url}/score`, JSON.stringify({ seconds: 1 }));
  // Stop only once the request is being run, whatever the machine's speed.
  await untilReady(ready.url, (body) => body.workers.some((w) => w.busy), 'the request being run before the stop');
  const stopped = h.sup.stop(spec.replicaId);
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal((res.json as { slept: number }).slept, 1);
  await stopped;
  const exited = await h.waitForEvent('Exited');
  assert.equal(exited.termination.reason, 'Stopped');
  assert.equal(exited.termination.exitCode, 0);
});
