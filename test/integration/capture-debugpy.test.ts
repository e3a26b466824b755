// `berth service debug --replay ID --inspect`: a debugpy client attaches with the written launch.json's path mappings, sets a
// breakpoint in run() in the user's own file, and the captured request that failed in production stops there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { berthBin, cleanup, tempDir } from '../helpers/control-plane.js';
import { SYSTEM_PYTHON } from '../helpers/env-wheel.js';
import { DapClient } from '../helpers/dap-client.js';
import { fixture, score, startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

/** The file:// package index of this machine's pip configuration that has `name` (the local index has debugpy). */
function localIndexWith(name: string): string {
  const config = execFileSync(SYSTEM_PYTHON, ['-m', 'pip', 'config', 'list'], { encoding: 'utf8' });
  const urls = [...config.matchAll(/file:\/\/[^\s']+/g)].map((m) => m[0]);
  const found = urls.find((u) => existsSync(join(fileURLToPath(u), name)));
  assert.ok(found, `no file:// index in pip config list has ${name}: ${urls.join(', ') || 'none'}`);
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
}

test('a breakpoint set in the user\'s own run() is hit by the replayed request that failed, through the written launch.json', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const req = join(tempDir('berth-dbg-req-'), 'requirements.txt');
  writeFileSync(req, 'debugpy\n');
  await plane.ok(['env', 'create', '--name', 'dbg', '--file', req, '--python', SYSTEM_PYTHON, '--index-url', localIndexWith('debugpy')], 180_000);
  await plane.ok(['deploy', '--name', 'divdbg', '--entry-script', 'divide_score.py', '--source-dir', fixture('.'), '--env', 'dbg', '--replicas', '1', '--no-auth', '--capture-failures'], 180_000);
  const uri = (await plane.show('divdbg')).scoring_uri;
  assert.equal((await score(uri, { x: 0, n: 7 }, undefined, { 'x-request-id': 'dbg-7' })).status, 502);
  await until(async () => JSON.parse(await plane.ok(['service', 'requests', 'divdbg', 'dbg-7', '-o', 'json'])) as unknown, 20_000, 'the capture');

  const [port, debugPort] = [await freePort(), await freePort()];
  const launchJson = join(tempDir('berth-dbg-vscode-'), 'launch.json');
  const child = spawn(process.execPath, [berthBin, 'service', 'debug', 'divdbg', '--replay', 'dbg-7', '--inspect', '--inspect-port', String(debugPort), '--launch-json', launchJson, '--port', String(port)],
    { env: { ...process.env, BERTH_HOME: plane.home, BERTH_SERVER: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => { child.kill('SIGKILL'); });

  // What VS Code would read: the configuration written for this service, mapping the user's folder to the snapshot.
  const config = await until(() => (existsSync(launchJson) ? (JSON.parse(readFileSync(launchJson, 'utf8')) as { configurations: Array<Record<string, unknown>> }).configurations[0] : undefined), 60_000, `launch.json written:\n${stderr}`);
  assert.equal(config.type, 'debugpy');
  assert.deepEqual(config.connect, { host: '127.0.0.1', port: debugPort });
  const mappings = config.pathMappings as Array<{ localRoot: string; remoteRoot: string }>;
  assert.equal(mappings[0]?.localRoot, fixture('.').replace(/\/$/, ''));
  assert.match(mappings[0]!.remoteRoot, /\/services\/divdbg\/1\/source$/);

  const dap = await DapClient.connect(debugPort, 60_000);
  t.after(() => dap.close());
  await dap.request('initialize', { clientID: 'berth-test', adapterID: 'debugpy', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  // debugpy answers attach only after configurationDone.
  const attached = dap.request('attach', { ...config, justMyCode: true });
  await dap.event('initialized', 60_000);
  const userFile = fixture('divide_score.py');
  const line = readFileSync(userFile, 'utf8').split('\n').findIndex((l) => l.includes('value = 1 / body["x"]')) + 1;
  assert.ok(line > 0);
  await dap.request('setBreakpoints', { source: { path: userFile }, breakpoints: [{ line }] });
  await dap.request('configurationDone');
  await attached;

  // init() runs once the debugger is there; then the CLI sends the captured request, which stops in run().
  const stopped = await dap.event('stopped', 60_000);
  assert.equal(stopped.body?.reason, 'breakpoint');
  const threadId = stopped.body?.threadId as number;
  const { body: trace } = await dap.request('stackTrace', { threadId, startFrame: 0, levels: 1 });
  const frame = (trace?.stackFrames as Array<{ id: number; name: string; line: number; source: { path: string } }>)[0]!;
  assert.equal(frame.name, 'run');
  assert.equal(frame.line, line);
  assert.equal(frame.source.path, userFile, 'the frame is shown in the user\'s own file');
  const { body: seen } = await dap.request('evaluate', { expression: 'raw_data', frameId: frame.id, context: 'repl' });
  assert.match(String(seen?.result), /"n": ?7/, 'the very request that failed');
  await dap.request('continue', { threadId });

  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /^HTTP\/1\.1 500 Internal Server Error\n/);
  assert.match(stdout, /"exception":"ZeroDivisionError: division by zero"/);
});
