// berth diagnose against real replicas, continued: a failed environment build and replicas failing their liveness probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, tempDir } from '../helpers/control-plane.js';
import { SYSTEM_PYTHON } from '../helpers/env-wheel.js';
import { until } from '../helpers/services.js';
import { useDiagnosePlane } from '../helpers/diagnose-plane.js';

const { plane: currentPlane, deploy, diagnosis } = useDiagnosePlane();

test('a failed environment build: the package manager\'s error line as evidence, and the fix', async () => {
  const req = join(tempDir('berth-req-'), 'requirements.txt');
  writeFileSync(req, 'definitely-not-a-package==9.9\n');
  // --no-index: pip looks nowhere, so nothing touches the network and the build fails at once.
  assert.equal((await currentPlane().cli(['env', 'create', '--name', 'broken', '--file', req, '--python', SYSTEM_PYTHON, '--no-index'], 120_000)).code, 1);
  const r = await deploy('env-broken', 'env_score.py', ['--env', 'broken', '--replicas', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /berth diagnose env-broken/);
  const d = await diagnosis('env-broken');
  const [f] = d.findings;
  assert.equal(f?.code, 'ENVIRONMENT_BUILD_FAILED', JSON.stringify(d.findings));
  assert.equal(f.severity, 'critical');
  assert.equal(d.findings.filter((x) => x.code === 'ENVIRONMENT_BUILD_FAILED').length, 1, 'one finding, not a second from the failed deploy');
  assert.match(f.symptom, /the environment broken:1 of env-broken failed to build/);
  assert.match(f.cause, /building environment broken:1 failed: pip install exited with code 1: No matching distribution found for definitely-not-a-package==9\.9/);
  assert.equal(f.evidence[0], 'the package manager said:');
  assert.ok(f.evidence.some((e) => /^ {2}.*ERROR: Could not find a version that satisfies the requirement definitely-not-a-package==9\.9/.test(e)), f.evidence.join('\n'));
  assert.match(f.fix, /berth env create/);
  assert.match(f.fix, /berth service update env-broken --env NAME:VERSION/);
  assert.match(f.fix, /berth env build broken:1/);
  const text = await currentPlane().ok(['diagnose', 'env-broken']);
  assert.match(text, /1\. \[critical\] ENVIRONMENT_BUILD_FAILED: .*\n {3}cause: .*No matching distribution found for definitely-not-a-package==9\.9\n {3}evidence:\n[\s\S]*ERROR: Could not find a version[\s\S]*\n {3}fix: /);
});

test('replicas failing liveness probes: the failed probes and the kill as evidence', async () => {
  // A short, tight probe: 0.3 s apart, 0.3 s to answer, killed after 2 failures in a row.
  const flags = ['--replicas', '1', '--liveness-period-s', '0.3', '--liveness-timeout-s', '0.3', '--liveness-failure-threshold', '2'];
  assert.equal((await deploy('stuck', 'sum_score.py', flags)).code, 0);
  const healthy = await diagnosis('stuck');
  assert.deepEqual(healthy.findings, [], 'answering probes is no problem');
  const pid = (await currentPlane().show('stuck')).replicas[0]?.pid;
  assert.ok(pid !== undefined);
  // Freeze the replica's `berth serve`: GET / is no longer answered, the probes time out and the replica is killed.
  process.kill(pid, 'SIGSTOP');
  try {
    await until(async () => ((await currentPlane().events('stuck')).some((e) => e.type === 'LivenessKill') ? true : undefined), 20_000, 'a liveness kill');
  } finally {
    // The kill takes the frozen process with it; continue it anyway should it still be there.
    if (isAlive(pid)) {
      try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    }
  }
  // The replica restarts with a new process, which answers its probes again.
  await until(async () => { const s = await currentPlane().show('stuck'); return s.state === 'Healthy' && s.replicas[0]?.pid !== pid ? true : undefined; }, 30_000, 'a restarted, healthy replica');
  const events = await currentPlane().events('stuck');
  const failed = events.filter((e) => e.type === 'ProbeFailed');
  assert.ok(failed.length >= 2, JSON.stringify(events.map((e) => e.type)));
  const d = await diagnosis('stuck');
  const f = d.findings.find((x) => x.code === 'REPLICA_LIVENESS_FAILED');
  assert.ok(f, JSON.stringify(d.findings));
  assert.equal(f.severity, 'error');
  assert.match(f.symptom, /replicas of stuck fail their liveness probe and are restarted/);
  assert.match(f.cause, /GET \/ on the replica did not answer/);
  assert.match(f.evidence[0]!, new RegExp(`^${failed.length} failed probe\\(s\\) and 1 liveness kill\\(s\\) in the window$`));
  assert.ok(f.evidence.some((e) => /^\S+ ProbeFailed stuck-\S+: Liveness probe failed: .* \(2\/2\)$/.test(e)), f.evidence.join('\n'));
  assert.ok(f.evidence.some((e) => /^\S+ LivenessKill stuck-\S+: Liveness probe failed 2 times in a row; killing and restarting$/.test(e)), f.evidence.join('\n'));
  assert.match(f.fix, /berth service update stuck --liveness-timeout-s N --liveness-failure-threshold N/);
  const text = await currentPlane().ok(['diagnose', 'stuck']);
  assert.match(text, /\[error\] REPLICA_LIVENESS_FAILED: /);
});
