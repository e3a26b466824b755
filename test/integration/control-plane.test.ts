// berth up / status / down against a real control plane process: detach, foreground with signals, one per home, errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { berth, berthBin, cleanup, down, isAlive, ok, tempDir, up } from '../helpers/control-plane.js';

after(cleanup);

test('up --detach starts it, status shows where and what, a second up is refused, down stops it', async () => {
  const home = tempDir();
  const plane = await up(home);
  assert.match(plane.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(existsSync(join(home, 'control-plane.json')));
  assert.ok(existsSync(join(home, 'berth.db')));
  console.log(`# berth up --detach answered after ${plane.startMs.toFixed(0)} ms`);

  const table = await ok(['status'], home);
  assert.match(table, new RegExp(`status: +running at ${plane.url}`));
  assert.match(table, /version: +\d+\.\d+\.\d+/);
  assert.match(table, /models: +0 \(0 versions\)/);
  assert.match(table, /services: +0/);
  const json = JSON.parse(await ok(['status', '--output', 'json'], home)) as { pid: number; url: string; home: string };
  assert.equal(json.pid, plane.pid);
  assert.equal(json.url, plane.url);
  assert.equal(json.home, home);

  const second = await berth(['up', '--detach', '--port', '0'], { home });
  assert.equal(second.code, 1);
  assert.equal(second.stderr, `berth: a berth control plane already runs at ${plane.url} (pid ${plane.pid})\n  fix: Use it, or stop it first with: berth down\n`);
  const secondForeground = await berth(['up', '--port', '0'], { home });
  assert.equal(secondForeground.code, 1);
  assert.match(secondForeground.stderr, /already runs/);

  assert.match(await ok(['down'], home), new RegExp(`stopped the berth control plane at ${plane.url} \\(pid ${plane.pid}\\)`));
  assert.equal(isAlive(plane.pid), false);
  assert.equal(existsSync(join(home, 'control-plane.json')), false);

  // With no run file left, status would try the default http://127.0.0.1:7070; a free port keeps the test independent of it.
  const port = await freePort();
  const status = await berth(['status', '--server', `http://127.0.0.1:${port}`], { home });
  assert.equal(status.code, 1, 'status exits 1 when nothing runs');
  assert.equal(status.stderr, `berth: the berth control plane is not running at http://127.0.0.1:${port}\n  fix: start it with: berth up\n`);
  const again = await berth(['down'], { home });
  assert.equal(again.code, 0, 'down is idempotent');
  assert.match(again.stdout, /no berth control plane is running/);
});

test('foreground up serves until SIGTERM or SIGINT, then exits 0 and removes its run file', async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const home = tempDir();
    const child = spawn(process.execPath, [berthBin, 'up', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!/listening on (http:\S+)/.test(stderr)) {
        assert.ok(Date.now() < deadline, `no listening line: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /listening on (http:\S+)/.exec(stderr)![1]!;
      assert.equal((await fetch(`${url}/v1/status`)).status, 200);
      assert.match(await ok(['status', '--server', url], home), /running at/);
      child.kill(signal);
      assert.equal(await exited, 0, `${signal} stops it cleanly`);
      assert.equal(existsSync(join(home, 'control-plane.json')), false);
    } finally {
      child.kill('SIGKILL');
    }
  }
});

test('a stale run file (dead pid) does not block up; down cleans it', async () => {
  const home = tempDir();
  const plane = await up(home);
  process.kill(plane.pid, 'SIGKILL');
  while (isAlive(plane.pid)) await new Promise((r) => setTimeout(r, 20));
  const restarted = await up(home);
  assert.notEqual(restarted.pid, plane.pid);
  await down(home);
});

test('commands other than up/down tell, in one line, that the control plane is not running', async () => {
  const home = tempDir();
  const port = await freePort();
  const run = await berth(['model', 'list'], { home, env: { BERTH_SERVER: `http://127.0.0.1:${port}` } });
  assert.equal(run.code, 1);
  assert.equal(run.stderr, `berth: the berth control plane is not running at http://127.0.0.1:${port}\n  fix: start it with: berth up\n`);
  assert.equal(run.stdout, '');
});

test('up on a port that is taken fails in one line; bad flags are usage errors', async () => {
  const home = tempDir();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const run = await berth(['up', '--detach', '--port', String(port)], { home });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`did not start: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
    assert.equal(existsSync(join(home, 'control-plane.json')), false, 'a failed start leaves no run file');
  } finally {
    blocker.close();
  }
  const bad = await berth(['up', '--port', 'seventy'], { home });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^berth: invalid setting --port/);
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
