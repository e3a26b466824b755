// Start-up failures are classed: one that repeats on every start (a syntax error, a missing model) stops the replica at
// once; one that may pass (anything else init() raises) backs off and retries; restart_policy overrides; the last five
// runs' output and ends are kept.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane, until, type Plane } from '../helpers/services.js';

after(cleanup);

const FLAGS = ['--capacity', 'cpu=4,memory_gb=8', '--restart-backoff', '1s'];
const deploy = (p: Plane, name: string, script: string, extra: readonly string[] = []) =>
  p.cli(['deploy', '--name', name, '--entry-script', script, '--source-dir', fixture('.'), '--replicas', '1', ...extra]);

test('a permanent failure (the script does not even import): Failed at once, not restarted, the exception, file and line', async (t) => {
  const p = await startPlane(FLAGS);
  t.after(() => stopPlane(p));
  const r = await deploy(p, 'broken', 'syntax_error.py');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /crashed during init\(\): SyntaxError: .* at \S*syntax_error\.py:4 \(Failed: not restarted, it fails the same way every time\)/);
  const show = await p.show('broken');
  assert.equal(show.state, 'Failed');
  assert.equal(show.replicas[0]?.state, 'Failed');
  // Three back-off periods pass without a restart: the count is polled over the window, not guessed.
  const until3s = Date.now() + 3500;
  while (Date.now() < until3s) {
    assert.equal((await p.show('broken')).replicas[0]?.restarts, 0);
    await new Promise((res) => setTimeout(res, 250));
  }
  const events = await p.events('broken');
  const stop = events.find((e) => e.type === 'NotRestarting');
  assert.ok(stop !== undefined, events.map((e) => e.type).join(', '));
  assert.match(stop.message, /Not restarting: SyntaxError: .* fails the same way on every start \(a permanent failure\)/);
  assert.equal(events.filter((e) => e.type === 'BackOff').length, 0);
  const diagnosis = JSON.parse(await p.ok(['diagnose', 'broken', '-o', 'json'])) as { findings: Array<{ code: string; cause: string; evidence: string[] }> };
  const f = diagnosis.findings[0];
  assert.ok(f !== undefined);
  assert.ok(f.evidence.some((e) => /permanent/.test(e)), f.evidence.join('\n'));
});

test('a transient failure (init() raised something else): CrashLoopBackOff, retrying with back-off, and the last runs kept', async (t) => {
  const p = await startPlane(FLAGS);
  t.after(() => stopPlane(p));
  const r = await deploy(p, 'flaky', 'init_fails.py');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ValueError: bad init at \S*init_fails\.py:6 \(CrashLoopBackOff\)/);
  const looping = await until(async () => {
    const s = await p.show('flaky');
    return (s.replicas[0]?.restarts ?? 0) >= 3 ? s : undefined;
  }, 60_000, 'three restarts');
  assert.equal(looping.replicas[0]?.state === 'CrashLoopBackOff' || looping.replicas[0]?.state === 'Starting', true);
  const backoffs = (await p.events('flaky')).filter((e) => e.type === 'BackOff');
  assert.match(backoffs[0]!.message, /retrying in 1 s \(attempt 2\).*ValueError: bad init/);
  assert.match(backoffs[1]!.message, /retrying in 2 s \(attempt 3\)/);
  // Each run's output is kept, five back; each end too.
  const replica = looping.replicas[0]!.id;
  for (const n of ['1', '2']) assert.match(await p.ok(['service', 'logs', 'flaky', '--replica', replica, '--previous', n]), /ValueError: bad init/);
  assert.ok((looping.replicas[0]?.recent_terminations?.length ?? 0) >= 3);
  const bad = await p.cli(['service', 'logs', 'flaky', '--previous', '6']);
  assert.equal(bad.code, 2);
});

test('restart_policy overrides the class: always retries a permanent failure, never stops a transient one', async (t) => {
  const p = await startPlane(FLAGS);
  t.after(() => stopPlane(p));
  assert.equal((await deploy(p, 'stubborn', 'syntax_error.py', ['--restart-policy', 'always'])).code, 1);
  await until(async () => (((await p.show('stubborn')).replicas[0]?.restarts ?? 0) >= 2 ? true : undefined), 30_000, 'restarts despite the class');
  assert.equal((await deploy(p, 'onceonly', 'init_fails.py', ['--restart-policy', 'never'])).code, 1);
  const s = await until(async () => {
    const x = await p.show('onceonly');
    return x.replicas[0]?.state === 'Failed' ? x : undefined;
  }, 30_000, 'Failed');
  assert.equal(s.replicas[0]?.restarts, 0);
  assert.match((await p.events('onceonly')).find((e) => e.type === 'NotRestarting')?.message ?? '', /restart policy never/);
});
