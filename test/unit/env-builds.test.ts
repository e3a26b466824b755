// The build cache with a real interpreter: one build per digest under concurrency, rebuilds only when the built folder is gone, stale locks taken over.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import { acquireFileLock } from '../../src/control/environments/build-lock.js';
import { Environments } from '../../src/control/environments/environments.js';
import { openStore } from '../../src/control/store/db.js';
import { SYSTEM_PYTHON } from '../helpers/env-wheel.js';

const root = mkdtempSync(join(tmpdir(), 'berth-env-unit-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function environments(): Environments {
  const home = join(root, String(++n));
  mkdirSync(home);
  const db = openStore(join(home, 'berth.db'));
  after(() => db.close());
  return new Environments({ db, root: join(home, 'envs'), env: { PATH: process.env.PATH }, logger: pino({ level: 'silent' }) });
}

// No requirements: a bare virtualenv (no pip step) builds in well under a second, so these tests stay fast.
const bare = (name: string, variables: Record<string, string> = {}) => ({ name, description: '', python: SYSTEM_PYTHON, variables });

test('concurrent requests for one spec build it once; other names and versions with that spec reuse it', async () => {
  const envs = environments();
  const [a, b] = await Promise.all([envs.create(bare('a', { X: '1' })), envs.create(bare('b', { X: '2' }))]);
  assert.equal(a.environment.digest, b.environment.digest, 'variables are not part of the digest');
  await Promise.all([envs.ensureBuilt({ name: 'a' }), envs.ensureBuilt({ name: 'b' }), envs.ensureBuilt({ name: 'a', version: 1 })]);
  const again = await envs.create(bare('a', { X: '3' }));
  assert.equal(again.environment.version, 2);
  await envs.ensureBuilt({ name: 'a', version: 2 });
  for (const v of envs.list()) {
    assert.equal(v.state, 'Built');
    assert.equal(v.builds, 1, `${v.name}:${v.version} shares the one build`);
  }
  const rt = await envs.resolveEnvironmentForReplica({ name: 'a', version: 2 });
  assert.deepEqual(JSON.parse(execFileSync(rt.python!, ['-c', 'import json, os, sys; print(json.dumps([sys.prefix, os.environ.get("X")]))'], { env: { ...rt.env }, encoding: 'utf8' })), [rt.env.VIRTUAL_ENV, '3']);
  await envs.close();
});

test('a built folder removed by hand is built again (counted); an unchanged create returns the same version', async () => {
  const envs = environments();
  const first = await envs.create(bare('e'));
  await envs.ensureBuilt({ name: 'e' });
  const same = await envs.create(bare('e'));
  assert.equal(same.created, false);
  assert.equal(same.environment.version, 1);
  rmSync(first.environment.path, { recursive: true });
  assert.equal(envs.show({ name: 'e' }).state, 'NotBuilt');
  await envs.ensureBuilt({ name: 'e' });
  const shown = envs.show({ name: 'e' });
  assert.equal(shown.state, 'Built');
  assert.equal(shown.builds, 2);
  assert.ok(existsSync(shown.python!));
  await envs.close();
});

test('a failed build fails every user at once with its error; build retries it', async () => {
  const envs = environments();
  const { environment } = await envs.create({ ...bare('broken'), python: SYSTEM_PYTHON, requirements: 'definitely-not-a-package==9.9\n', pip: { no_index: true } });
  await assert.rejects(envs.ensureBuilt({ name: 'broken' }), (e: Error & { code?: string }) => e.code === 'ENVIRONMENT_BUILD_FAILED' && /No matching distribution found for definitely-not-a-package==9\.9/.test(e.message));
  const started = Date.now();
  await assert.rejects(envs.resolveEnvironmentForReplica({ name: 'broken' }), /berth env logs broken:1/);
  assert.ok(Date.now() - started < 200, 'no rebuild: the stored failure is reported');
  assert.equal(envs.show({ name: 'broken' }).builds, 1);
  envs.build({ name: 'broken' });
  await assert.rejects(envs.ensureBuilt({ name: 'broken' }));
  assert.equal(envs.show({ name: 'broken' }).builds, 2);
  assert.equal(environment.state, 'Building');
  await envs.close();
});

test('a build stopped by a shutdown resumes at the next start; a build over the time limit fails saying so', async () => {
  const home = join(root, 'resume');
  mkdirSync(home);
  // An "interpreter" that hangs until a flag file exists, then is the real one.
  const flag = join(home, 'go');
  const python = join(home, 'python');
  writeFileSync(python, `#!/bin/sh\n[ -e ${flag} ] && exec ${SYSTEM_PYTHON} "$@"\nexec sleep 30\n`, { mode: 0o755 });
  const probe = async () => ({ executable: python, implementation: 'CPython', version: '3.11.2' });
  const open = (buildTimeoutMs?: number) => {
    const db = openStore(join(home, 'berth.db'));
    after(() => db.close());
    return new Environments({ db, root: join(home, 'envs'), env: { PATH: process.env.PATH }, logger: pino({ level: 'silent' }), probe, ...(buildTimeoutMs ? { buildTimeoutMs } : {}) });
  };
  const first = open();
  await first.create({ name: 'slow', description: '', python });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(first.show({ name: 'slow' }).state, 'Building');
  await first.close();
  const second = open();
  writeFileSync(flag, '');
  assert.equal(second.recover(), 1);
  await second.ensureBuilt({ name: 'slow' });
  assert.equal(second.show({ name: 'slow' }).builds, 2, 'the stopped attempt and the resumed one');
  await second.close();

  rmSync(flag);
  const limited = open(300);
  await limited.create({ name: 'slow', description: '', python, variables: {}, system_site_packages: true });
  await assert.rejects(limited.ensureBuilt({ name: 'slow' }), /creating the virtualenv took longer than the build time limit and was killed/);
  await limited.close();
});

test('a lock file left by a dead process is taken over; a live holder is waited for', async () => {
  const lock = join(root, 'x.lock');
  writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345 }));
  const release = await acquireFileLock(lock);
  let second = false;
  const waiting = acquireFileLock(lock, { pollMs: 20 }).then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(second, false, 'held by this (live) process');
  release();
  (await waiting)();
  assert.equal(existsSync(lock), false);
});
