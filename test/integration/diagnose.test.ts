// berth diagnose against real replicas: each failure is named with the right cause and evidence, and a healthy service gets none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gate, gatedSource } from '../helpers/gate.js';
import { score, until } from '../helpers/services.js';
import { useDiagnosePlane } from '../helpers/diagnose-plane.js';

const { plane: currentPlane, deploy, diagnosis } = useDiagnosePlane();

const uri = async (name: string): Promise<string> => (await currentPlane().show(name)).scoring_uri;

test('a healthy service: no problems found, with its key numbers', async () => {
  assert.equal((await deploy('fine', 'sum_score.py')).code, 0);
  const u = await uri('fine');
  for (let i = 0; i < 5; i++) assert.equal((await score(u, { data: [[1, 2]] })).status, 200);
  const d = await diagnosis('fine');
  assert.deepEqual(d.findings, []);
  assert.match(d.summary, /^no problems found in the last 15 min: fine is Healthy, 1\/1 replica\(s\) ready$/);
  assert.equal(d.numbers.requests, 5);
  const text = await currentPlane().ok(['diagnose', 'fine']);
  assert.match(text, /no problems found/);
  assert.match(text, /requests: 5 .*errors: none/);
});

test('init() crashing: CrashLoopBackOff with exception, file and line and the last output; deploy and logs point at diagnose', async () => {
  const r = await deploy('crashy', 'init_fails.py');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /berth diagnose crashy/);
  const logs = await currentPlane().cli(['service', 'logs', 'crashy', '--init']);
  assert.match(logs.stderr, /hint: service crashy is Failed; see what is wrong with: berth diagnose crashy/);
  assert.doesNotMatch(logs.stdout, /berth diagnose/);
  const [f] = (await diagnosis('crashy')).findings;
  assert.equal(f?.code, 'REPLICA_INIT_FAILED');
  assert.equal(f.severity, 'critical');
  assert.match(f.cause, /ValueError: bad init at .*init_fails\.py:6/);
  assert.ok(f.evidence.some((e) => /InitFailed event/.test(e)), f.evidence.join('\n'));
  assert.ok(f.evidence.some((e) => /ValueError: bad init/.test(e) && e.startsWith('  ')), 'last output lines');
  const text = await currentPlane().ok(['diagnose', 'crashy']);
  assert.match(text, /1\. \[critical\] REPLICA_INIT_FAILED: .*\n {3}cause: .*\n {3}evidence:\n[\s\S]*\n {3}fix: /);
});

test('a model that is not mounted: what the script asked for and what is mounted', async () => {
  assert.equal((await deploy('nomodel', 'missing_model.py')).code, 1);
  const [f] = (await diagnosis('nomodel')).findings;
  assert.equal(f?.code, 'MODEL_PATH_NOT_FOUND');
  assert.match(f.cause, /model does-not-exist/);
  assert.match(f.cause, /missing_model\.py:6/);
  assert.ok(f.evidence.some((e) => /^mounted: nothing \(the service has no model attached\); looked for: .*does-not-exist/.test(e)), f.evidence.join('\n'));
});

test('run() raising: 502s counted, the newest traceback with its request id', async () => {
  assert.equal((await deploy('raiser', 'run_fails.py')).code, 0);
  const u = await uri('raiser');
  for (let i = 0; i < 3; i++) assert.equal((await score(u, {})).status, 502);
  const d = await until(async () => { const x = await diagnosis('raiser'); return x.findings.length > 0 ? x : undefined; }, 10_000, 'a finding');
  const [f] = d.findings;
  assert.equal(f?.code, 'RUN_FAILED');
  assert.match(f.evidence[0]!, /^3 request\(s\) failed in run\(\)/);
  assert.ok(f.evidence.some((e) => /request id [0-9a-f-]{36}/.test(e)), f.evidence.join('\n'));
  assert.ok(f.evidence.some((e) => /ZeroDivisionError/.test(e)));
  assert.match(f.cause, /run\(\) raised ZeroDivisionError/);
});

test('504s: latency against the scoring timeout and the slowest requests', async () => {
  assert.equal((await deploy('slowpoke', 'sleep_score.py', ['--scoring-timeout-ms', '300'])).code, 0);
  const u = await uri('slowpoke');
  assert.equal((await score(u, { seconds: 0.01 })).status, 200);
  assert.equal((await score(u, { until_file: gate().path })).status, 504, 'a run() that only the timeout ends');
  const d = await until(async () => { const x = await diagnosis('slowpoke'); return x.findings.length > 0 ? x : undefined; }, 10_000, 'a finding');
  const f = d.findings.find((x) => x.code === 'SCORING_TIMEOUT');
  assert.ok(f, JSON.stringify(d.findings));
  assert.match(f.cause, /scoring timeout of 300 ms/);
  assert.ok(f.evidence.some((e) => /p50 .* against scoring_timeout_ms 300/.test(e)), f.evidence.join('\n'));
  assert.ok(f.evidence.some((e) => /^slow request \S+ on slowpoke-/.test(e)));
});

test('503s with a busy single replica: utilization, queue waits, at max, and the calculator\'s replica count', async () => {
  assert.equal((await deploy('busy', 'sleep_score.py', ['--replicas', '1', '--max-request-wait-ms', '100'])).code, 0);
  const u = await uri('busy');
  // One request holds the only slot until released; every one sent meanwhile waits its 100 ms and gets 503.
  const held = gate();
  const holding = score(u, { until_file: held.path });
  await until(async () => (/berth_gateway_in_flight\{service="busy"\} 1/.test(await (await fetch(`${currentPlane().url}/metrics`)).text()) ? true : undefined), 10_000, 'the holding request in flight');
  const statuses = (await Promise.all(Array.from({ length: 5 }, () => score(u, { seconds: 0 })))).map((r) => r.status);
  held.release();
  assert.equal((await holding).status, 200);
  assert.deepEqual(statuses, [503, 503, 503, 503, 503]);
  const f = (await diagnosis('busy')).findings.find((x) => x.code === 'SERVICE_OVERLOADED');
  assert.ok(f);
  assert.ok(f.evidence.some((e) => /answered 503/.test(e)));
  assert.ok(f.evidence.some((e) => /1 ready .*the most allowed: 1 .*at the maximum/.test(e)), f.evidence.join('\n'));
  assert.ok(f.evidence.some((e) => /queue wait: .* against max_request_wait_time 100 ms/.test(e)));
  assert.ok(f.evidence.some((e) => /the replica calculator .*: \d+ replica\(s\)/.test(e)));
  assert.match(f.fix, /--replicas \d+/);
});

test('OOMKilled under a low memory limit: limit, peak and a suggested memory_gb', async () => {
  assert.equal((await deploy('hog', 'leak_score.py', ['--memory-gb', '0.15', '--replicas', '1'])).code, 0);
  const u = await uri('hog');
  await until(async () => {
    await score(u, { mb: 60 }).catch(() => undefined);
    return (await currentPlane().events('hog')).some((e) => e.type === 'OOMKilled') ? true : undefined;
  }, 30_000, 'an OOM kill');
  const f = (await diagnosis('hog')).findings.find((x) => x.code === 'REPLICA_OOM_KILLED');
  assert.ok(f);
  assert.ok(f.evidence.some((e) => /^limit 154 MB, peak usage seen \d+ MB$/.test(e)), f.evidence.join('\n'));
  assert.match(f.fix, /--memory-gb 0\.\d+ \(peak × 1\.5\)/);
});

test('Unschedulable: the short resource, requested vs free', async () => {
  assert.equal((await deploy('gpu-a', 'sum_score.py', ['--gpu', '1'])).code, 0);
  assert.equal((await deploy('gpu-b', 'sum_score.py', ['--gpu', '1', '--no-wait'])).code, 0);
  await until(async () => ((await currentPlane().show('gpu-b')).state === 'Unschedulable' ? true : undefined), 10_000, 'Unschedulable');
  const d = await diagnosis('gpu-b');
  const f = d.findings.find((x) => x.code === 'SCHEDULING_TIMEOUT');
  assert.ok(f, JSON.stringify(d.findings));
  assert.match(f.cause, /not enough free GPU/);
  assert.ok(f.evidence.some((e) => /requested per replica: .*gpu 1/.test(e)));
  assert.ok(f.evidence.some((e) => /free now: .*gpu 0/.test(e)), f.evidence.join('\n'));
  // The deploy still waits: a change now gets 409, and diagnose says which operation runs since when.
  const busy = d.findings.find((x) => x.code === 'OPERATION_IN_PROGRESS');
  assert.ok(busy);
  assert.match(busy.cause, /^deploy operation [0-9a-f-]{36} has been running since \S+/);
});

test('409 while a slow init() deploy runs: the running operation and since when', async () => {
  // init() waits for the release at the end, so the deploy is surely still running while the test looks at it.
  const src = gatedSource();
  assert.equal((await deploy('slowinit', src.script, ['--source-dir', src.dir, '--no-wait'])).code, 0);
  const update = await currentPlane().cli(['service', 'update', 'slowinit', '--replicas', '2']);
  assert.equal(update.code, 1);
  assert.match(update.stderr, /is busy/);
  const f = (await diagnosis('slowinit')).findings.find((x) => x.code === 'OPERATION_IN_PROGRESS');
  assert.ok(f);
  assert.equal(f.severity, 'warning');
  assert.match(f.evidence[0]!, /operation [0-9a-f-]{36}: deploy, started \S+, now: /);
  src.release();
});

test('service debug runs the snapshot in the foreground and answers /score; --inspect without debugpy says how to get it', async () => {
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const { berthBin } = await import('../helpers/control-plane.js');
  const port = await new Promise<number>((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
  const child = spawn(process.execPath, [berthBin, 'service', 'debug', 'fine', '--port', String(port)], { env: { ...process.env, BERTH_HOME: currentPlane().home, BERTH_SERVER: '' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  try {
    const r = await until(async () => { const x = await score(`http://127.0.0.1:${port}/score`, { data: [[1, 2, 3]] }).catch(() => undefined); return x?.status === 200 ? x : undefined; }, 20_000, `debug answering:\n${out}`);
    assert.match(r.text, /6/);
    assert.match(out, new RegExp(`local URL: http://127\\.0\\.0\\.1:${port}/score`));
    assert.match(out, /from its snapshot: .*\/services\/fine\/1\/source\/sum_score\.py/);
  } finally {
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => child.once('exit', r));
  }
  const inspect = await currentPlane().cli(['service', 'debug', 'fine', '--inspect', '--port', String(port)]);
  assert.notEqual(inspect.code, 0);
  assert.match(inspect.stderr, /debugpy is not importable by python3/);
  assert.match(inspect.stderr, /fix: Install it: python3 -m pip install debugpy/);
});
