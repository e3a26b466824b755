// Environment builds write only under $BERTH_HOME: with the plane's TMPDIR and HOME pointed at a watched folder, a
// Python build (from an HTTP index, so pip caches) and a JS build (npm) leave nothing there, and caches are in the home.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { berth, cleanup, isAlive, ok, tempDir } from '../helpers/control-plane.js';
import { SYSTEM_PYTHON, writeWheel } from '../helpers/env-wheel.js';

const stops: Array<() => void> = [];
after(() => {
  for (const stop of stops.splice(0)) stop();
  cleanup();
});

/** Records every entry created in `dir` (not recursive: whatever a tool writes there starts with an entry at the top). */
function watchDir(dir: string): { seen: Set<string>; settled: () => Promise<void>; watcher: FSWatcher } {
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  const watcher = watch(dir, (_event, name) => {
    if (name === null) return;
    const waiter = waiters.get(name);
    if (waiter !== undefined) waiter();
    else seen.add(name);
  });
  let n = 0;
  // inotify delivers a folder's events in order: once our own marker's event arrives, every earlier one has too.
  const settled = (): Promise<void> => new Promise((resolve) => {
    const marker = `.berth-test-marker-${++n}`;
    waiters.set(marker, () => { waiters.delete(marker); resolve(); });
    writeFileSync(join(dir, marker), '');
  });
  return { seen, settled, watcher };
}

/** A PEP 503 index of one wheel, answered with a long max-age so pip keeps the download in its HTTP cache. */
async function serveIndex(wheel: string): Promise<{ url: string; server: Server }> {
  const name = wheel.split('/').at(-1)!;
  const bytes = readFileSync(wheel);
  const digest = createHash('sha256').update(bytes).digest('hex');
  const server = createServer((req, res) => {
    if (req.url === '/simple/berth-cacheprobe/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<a href="/files/${name}#sha256=${digest}">${name}</a>\n`);
    } else if (req.url === `/files/${name}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=86400', 'content-length': bytes.length }).end(bytes);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/simple`, server };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
}

test('a Python and a JS build write nothing outside $BERTH_HOME; pip\'s and npm\'s caches are in it, temp folders removed', async () => {
  const outside = tempDir('berth-outside-');
  const tmp = join(outside, 'tmp');
  const userHome = join(outside, 'home');
  mkdirSync(tmp);
  mkdirSync(userHome);
  const home = tempDir('berth-env-home-');
  const files = tempDir('berth-env-files-');

  // The plane's own environment: temp and home in the watched folder, no cache settings of this test's runner
  // (npm sets npm_config_cache for scripts it runs), so only what berth sets decides where caches go.
  const env: Record<string, string | undefined> = { TMPDIR: tmp, TMP: tmp, TEMP: tmp, HOME: userHome, XDG_CACHE_HOME: undefined, PIP_CACHE_DIR: undefined, PIP_NO_CACHE_DIR: undefined };
  for (const name of Object.keys(process.env)) if (/^npm_config_/i.test(name)) env[name] = undefined;
  // pip runs `rustc --version` for its user agent; a rustup proxy writes its settings into a HOME that has none. That
  // is the machine's toolchain, not a build's output: keep rustup's state where this machine has it.
  const rustup = process.env.RUSTUP_HOME ?? join(homedir(), '.rustup');
  if (existsSync(rustup)) env.RUSTUP_HOME = rustup;

  const tmpWatch = watchDir(tmp);
  const homeWatch = watchDir(userHome);
  stops.push(() => { tmpWatch.watcher.close(); homeWatch.watcher.close(); });

  const started = await berth(['up', '--detach', '--port', '0', '--home', home], { home, env: env as Record<string, string> });
  assert.equal(started.code, 0, started.stderr);
  const pid = Number(/\(pid (\d+)/.exec(started.stdout)?.[1]);
  stops.push(() => { if (isAlive(pid)) process.kill(pid, 'SIGKILL'); });

  mkdirSync(join(files, 'wheels'));
  const index = await serveIndex(writeWheel(join(files, 'wheels'), 'berth_cacheprobe', '1.0', 'cached'));
  stops.push(() => index.server.close());
  // pip caches HTTP downloads only from https or trusted hosts.
  writeFileSync(join(files, 'requirements.txt'), '--trusted-host 127.0.0.1\nberth-cacheprobe==1.0\n');
  await ok(['env', 'create', '--name', 'py', '--file', join(files, 'requirements.txt'), '--python', SYSTEM_PYTHON, '--index-url', index.url], home);

  mkdirSync(join(files, 'lib'));
  mkdirSync(join(files, 'app'));
  writeFileSync(join(files, 'lib', 'package.json'), JSON.stringify({ name: 'berth-js-cacheprobe', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(files, 'lib', 'index.js'), 'module.exports = 1;\n');
  writeFileSync(join(files, 'app', 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { 'berth-js-cacheprobe': 'file:../lib' } }));
  await ok(['env', 'create', '--name', 'js', '--file', join(files, 'app', 'package.json')], home);

  await Promise.all([tmpWatch.settled(), homeWatch.settled()]);
  assert.deepEqual([...tmpWatch.seen], [], 'nothing created in the plane\'s TMPDIR during the builds');
  assert.deepEqual([...homeWatch.seen], [], 'nothing created in the plane\'s HOME during the builds');
  assert.ok(filesUnder(join(home, 'cache', 'pip')).length > 0, 'pip cached the download under $BERTH_HOME/cache/pip');
  assert.ok(existsSync(join(home, 'cache', 'npm')), 'npm\'s cache is $BERTH_HOME/cache/npm');
  assert.deepEqual(readdirSync(join(home, 'envs', 'tmp')), [], 'each build\'s temp folder is removed after it');
  const log = await ok(['env', 'logs', 'py'], home);
  assert.match(log, new RegExp(`^# temp: ${join(home, 'envs', 'tmp')}/[0-9a-f]{64} \\(removed after the build\\); caches: ${join(home, 'cache')}$`, 'm'));

  await ok(['down', '--home', home], home);
});
