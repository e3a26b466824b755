// A real full disk: the control plane's home on a small tmpfs (in a private mount namespace, `unshare -rm`, so no root
// is needed), filled to the last block; a model delete is then 507 STORAGE_FAILED, and works once space is freed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { berth, berthBin, cleanup, tempDir } from '../helpers/control-plane.js';

after(cleanup);

/** Mounts a tmpfs over the directory given as $0 in a new mount namespace, then runs the rest of the arguments there. */
const MOUNT_AND_RUN = 'mount -t tmpfs -o size=8m tmpfs "$0" && exec "$@"';

/** Why a tmpfs cannot be mounted here (no user namespaces, a seccomp profile, no unshare); undefined when it can. */
function cannotMount(): string | undefined {
  const dir = tempDir('berth-tmpfs-probe-');
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', MOUNT_AND_RUN, dir, 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : `unshare -rm + mount tmpfs failed: ${r.stderr.trim()}`;
}

/** Starts `berth up` in the foreground on a tmpfs home; resolves with the child and the plane's URL. */
function startOnTmpfs(home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('unshare', ['-rm', 'sh', '-c', MOUNT_AND_RUN, home, process.execPath, berthBin, 'up', '--port', '0', '--home', home], {
    env: { ...process.env, BERTH_HOME: home, BERTH_SERVER: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the plane did not start:\n${out}`)); }, 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*control plane listening/.exec(out);
      if (m !== null) { clearTimeout(timer); resolve({ child, url: m[1]! }); }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the plane exited ${code}:\n${out}`)); });
  });
}

/** Writes `file` until the filesystem has no block left (tmpfs allocates whole pages, so 4 KiB writes leave none). */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

test('a model delete on a full disk is 507 STORAGE_FAILED with a fix; after space is freed it succeeds', async (t) => {
  const why = cannotMount();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const home = tempDir();
  const src = tempDir('berth-src-');
  writeFileSync(join(src, 'weights.bin'), 'weights');
  const { child, url } = await startOnTmpfs(home);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => { child.kill('SIGTERM'); await exited; });
  const cli = (args: string[]) => berth(args, { home, env: { BERTH_SERVER: url } });
  const registered = await cli(['model', 'register', '--name', 'm', '--path', join(src, 'weights.bin')]);
  assert.equal(registered.code, 0, registered.stderr);

  // The plane's home as this process sees it: through the plane's root, in its mount namespace.
  const filler = join(`/proc/${child.pid}/root`, home, 'filler');
  assert.ok(fillDisk(filler) > 0);
  const full = await fetch(`${url}/v1/models/m/versions/1`, { method: 'DELETE' });
  const body = (await full.json()) as { code?: string; message?: string; fix?: string };
  assert.equal(full.status, 507, JSON.stringify(body));
  assert.equal(body.code, 'STORAGE_FAILED');
  assert.match(String(body.message), /database or disk is full|SQLITE_FULL|SQLITE_IOERR/);
  assert.match(String(body.fix), /Free disk space/);
  const viaCli = await cli(['model', 'delete', 'm:1']);
  assert.notEqual(viaCli.code, 0);
  assert.match(viaCli.stderr, /could not write to the store/);

  rmSync(filler);
  assert.equal((await cli(['model', 'delete', 'm:1'])).code, 0, 'with space back the same delete works');
  const list = await cli(['model', 'list', '-o', 'json']);
  assert.deepEqual(JSON.parse(list.stdout), []);
});
