// Registering is atomic: SIGKILL the control plane in the middle of a 200 MB upload, or after the upload but before the
// commit, restart it, and the store holds complete versions only, with every referenced blob verifying.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { berth, berthBin, cleanup, isAlive, ok, tempDir, up, type RunningPlane } from '../helpers/control-plane.js';

const SIZE = 200 * 1024 * 1024;
let home: string;
let big: string;
let bigDigest: string;
let plane: RunningPlane;

before(async () => {
  home = tempDir();
  const src = tempDir('berth-big-');
  big = join(src, 'weights.bin');
  // Random bytes (1 MiB repeated with a counter), so nothing compresses or dedupes by accident.
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  const fd = openSync(big, 'w');
  for (let i = 0; i < SIZE / block.length; i++) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block);
    hash.update(block);
  }
  closeSync(fd);
  bigDigest = hash.digest('hex');
  plane = await up(home);
  const small = join(src, 'small.json');
  writeFileSync(small, '{"kept": true}');
  assert.equal(await ok(['model', 'register', '--name', 'keep', '--path', small], home), 'keep:1\n');
});
after(cleanup);

const tmpFiles = () => readdirSync(join(home, 'blobs', 'tmp'));
const blobFiles = () => readdirSync(join(home, 'blobs', 'sha256')).flatMap((d) => readdirSync(join(home, 'blobs', 'sha256', d)));

async function killPlane(): Promise<void> {
  process.kill(plane.pid, 'SIGKILL');
  while (isAlive(plane.pid)) await new Promise((r) => setTimeout(r, 10));
}

/** Every blob file's content hashes to its name: checked here independently of berth's own verify. */
async function assertBlobsVerify(): Promise<void> {
  for (const name of blobFiles()) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(home, 'blobs', 'sha256', name.slice(0, 2), name))) hash.update(chunk as Buffer);
    assert.equal(hash.digest('hex'), name, `blob ${name} verifies`);
  }
}

test('SIGKILL during a 200 MB upload leaves no version and no partial blob; a new register then works', async () => {
  const listBefore = await ok(['model', 'list', '-o', 'json'], home);
  const blobsBefore = blobFiles().sort();
  const register = spawn(process.execPath, [berthBin, 'model', 'register', '--name', 'huge', '--path', big], { env: { ...process.env, BERTH_HOME: home, BERTH_SERVER: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  register.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => register.on('exit', (code) => resolve(code)));
  try {
    // Wait until a good part of the file sits in a temp blob, then kill the control plane without warning.
    const deadline = Date.now() + 30_000;
    let partial = 0;
    while (partial < 40 * 1024 * 1024) {
      assert.ok(Date.now() < deadline, 'upload did not start');
      partial = tmpFiles().reduce((max, f) => Math.max(max, statSync(join(home, 'blobs', 'tmp', f)).size), 0);
      await new Promise((r) => setTimeout(r, 5));
    }
    await killPlane();
    assert.ok(partial < SIZE, 'killed mid-upload');
    assert.equal(await exited, 1, 'the register fails');
    assert.match(stderr, /^berth: the request to the berth control plane at http:\/\/127\.0\.0\.1:\d+ failed/);
    assert.equal(tmpFiles().length, 1, 'the partial temp file is what the kill left');
  } finally {
    register.kill('SIGKILL');
  }

  plane = await up(home);
  assert.deepEqual(tmpFiles(), [], 'start-up removed the partial temp file');
  assert.equal(await ok(['model', 'list', '-o', 'json'], home), listBefore, 'no half version appeared');
  assert.deepEqual(blobFiles().sort(), blobsBefore);
  assert.match(await ok(['model', 'verify'], home), /all digests match/);
  await assertBlobsVerify();

  const started = performance.now();
  assert.equal(await ok(['model', 'register', '--name', 'huge', '--path', big], home), 'huge:1\n');
  const seconds = (performance.now() - started) / 1000;
  console.log(`# registered ${SIZE / 2 ** 20} MiB in ${seconds.toFixed(2)} s: ${(SIZE / 2 ** 20 / seconds).toFixed(0)} MiB/s (CLI start included)`);
  const shown = JSON.parse(await ok(['model', 'show', 'huge:1', '-o', 'json'], home)) as { files: { digest: string; size: number }[] };
  assert.deepEqual(shown.files.map((f) => [f.digest, f.size]), [[bigDigest, SIZE]]);
  await assertBlobsVerify();
});

test('SIGKILL after the upload but before the commit: nothing is registered and the orphan blob is collected at start', async () => {
  const listBefore = await ok(['model', 'list', '-o', 'json'], home);
  const blobsBefore = blobFiles().sort();
  const content = randomBytes(64 * 1024);
  const started = (await (await fetch(`${plane.url}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'huge' }) })).json()) as { upload_id: string };
  const put = await fetch(`${plane.url}/v1/uploads/${started.upload_id}/files?path=w.bin`, { method: 'PUT', body: content });
  assert.equal(put.status, 200);
  assert.equal(blobFiles().length, blobsBefore.length + 1, 'the blob is in place, not yet referenced');
  await killPlane();

  plane = await up(home);
  assert.equal(await ok(['model', 'list', '-o', 'json'], home), listBefore);
  assert.deepEqual(blobFiles().sort(), blobsBefore, 'the unreferenced blob was collected');
  const verify = await berth(['model', 'verify'], { home });
  assert.equal(verify.code, 0, verify.stderr);
});
