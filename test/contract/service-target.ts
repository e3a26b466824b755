// The lifecycle every target must show the same way through the control plane (local processes, local containers, a Kubernetes cluster): one suite, run by each target's own test file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAlive, up } from '../helpers/control-plane.js';
import { score, until, withCli, type Plane } from '../helpers/services.js';

export interface TargetHarness {
  readonly name: string;
  /** Why the suite cannot run here, or undefined. */
  readonly skip: () => Promise<string | undefined>;
  /** A control plane on this target in a fresh home (and what it needs: a cluster, a registry). */
  readonly plane: () => Promise<Plane & { readonly upFlags: readonly string[]; readonly close: () => Promise<void> }>;
  /** The source folder holding the test fixtures. */
  readonly source: () => string;
}

const SECOND = 1000;

export function serviceTargetContract(h: TargetHarness): void {
  const prefix = `[${h.name} target]`;
  const deploy = (p: Plane, name: string, script: string, extra: readonly string[] = []) =>
    p.cli(['deploy', '--name', name, '--entry-script', script, '--source-dir', h.source(), '--replicas', '1', '--no-auth', ...extra], 600 * SECOND);

  test(`${prefix} a service reaches Healthy, scores through the gateway, and keeps its start-up output`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const p = await h.plane();
    t.after(() => p.close());
    const r = await deploy(p, 'healthy', 'sum_score.py');
    assert.equal(r.code, 0, r.stderr);
    const show = await p.show('healthy');
    assert.equal(show.state, 'Healthy');
    assert.equal(show.replicas.filter((x) => x.state === 'Ready').length, 1);
    assert.deepEqual(JSON.parse((await score(`${p.url}/api/v1/service/healthy/score`, { data: [[1, 2, 3]] })).text), { result: [6] });
    await until(async () => (/sum_score init done/.test(await p.ok(['service', 'logs', 'healthy', '--init'])) ? true : undefined), 30 * SECOND, 'the start-up log');
  });

  test(`${prefix} init() raising: the deploy fails with the exception, file and line; CrashLoopBackOff; the traceback in --init logs`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const p = await h.plane();
    t.after(() => p.close());
    const r = await deploy(p, 'crashy', 'init_fails.py');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /crashed during init\(\): ValueError: bad init at \S*init_fails\.py:6/);
    const show = await p.show('crashy');
    assert.equal(show.state, 'Failed');
    await until(async () => ((await p.show('crashy')).replicas.some((x) => x.state === 'CrashLoopBackOff') ? true : undefined), 60 * SECOND, 'CrashLoopBackOff');
    await until(async () => (/ValueError: bad init/.test(await p.ok(['service', 'logs', 'crashy', '--init'])) ? true : undefined), 30 * SECOND, 'the traceback in --init');
  });

  test(`${prefix} a replica whose server dies is restarted and serves again; --previous keeps the dead run's output`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const p = await h.plane();
    t.after(() => p.close());
    assert.equal((await deploy(p, 'phoenix', 'kill_server_score.py')).code, 0);
    const uri = `${p.url}/api/v1/service/phoenix/score`;
    await score(uri, { kill_server: true }).catch(() => undefined);
    await until(async () => {
      const r = (await p.show('phoenix')).replicas[0];
      return r !== undefined && r.restarts >= 1 && r.state === 'Ready' ? true : undefined;
    }, 90 * SECOND, 'restarted and Ready');
    await until(async () => ((await score(uri, {})).status === 200 ? true : undefined), 30 * SECOND, 'serving again');
    assert.match(await p.ok(['service', 'logs', 'phoenix', '--previous']), /kill_server_score init done/);
  });

  test(`${prefix} a replica over its memory limit is OOMKilled with the limit and the advice`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const p = await h.plane();
    t.after(() => p.close());
    assert.equal((await deploy(p, 'hog', 'leak_score.py', ['--memory-gb', '0.15'])).code, 0);
    const uri = `${p.url}/api/v1/service/hog/score`;
    const oomSeen = async (): Promise<true | undefined> => ((await p.events('hog')).some((e) => e.type === 'OOMKilled') ? true : undefined);
    for (let i = 0; i < 5 && (await oomSeen()) === undefined; i++) {
      await score(uri, { mb: 200 }).catch(() => undefined);
      await until(oomSeen, 10 * SECOND, 'OOM').catch(() => undefined);
    }
    const oom = (await p.events('hog')).find((e) => e.type === 'OOMKilled');
    assert.ok(oom !== undefined, 'an OOMKilled event');
    assert.match(oom.message, /OOMKilled.*limit \d+ MB; raise memory_gb/);
    await until(async () => ((await p.show('hog')).replicas[0]?.last_termination?.reason === 'OOMKilled' ? true : undefined), 60 * SECOND, 'the termination shown');
  });

  test(`${prefix} scaling up and down through the service, and a control plane killed with SIGKILL adopts what runs`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    let p = await h.plane();
    t.after(() => p.close());
    assert.equal((await deploy(p, 'steady', 'sum_score.py')).code, 0);
    await p.ok(['service', 'update', 'steady', '--replicas', '2'], 600 * SECOND);
    await until(async () => ((await p.show('steady')).replicas.filter((x) => x.state === 'Ready').length === 2 ? true : undefined), 120 * SECOND, 'two ready');
    const before = (await p.show('steady')).replicas.map((x) => x.id).sort();
    process.kill(p.pid, 'SIGKILL');
    await until(() => (isAlive(p.pid) ? undefined : true), 10 * SECOND, 'control plane gone');
    const close = p.close;
    p = Object.assign(withCli(await up(p.home, p.upFlags)), { upFlags: p.upFlags, close });
    const after = await p.show('steady');
    assert.deepEqual(after.replicas.map((x) => x.id).sort(), before, 'the same replicas: adopted, not replaced');
    assert.ok(after.replicas.every((x) => x.restarts === 0));
    assert.deepEqual(JSON.parse((await score(`${p.url}/api/v1/service/steady/score`, { data: [[4, 5]] })).text), { result: [9] });
    await p.ok(['service', 'update', 'steady', '--replicas', '1'], 600 * SECOND);
    await until(async () => {
      const s = await p.show('steady');
      return s.state === 'Healthy' && s.replicas.filter((x) => x.state === 'Ready').length === 1 ? true : undefined;
    }, 120 * SECOND, 'one ready');
  });
}
