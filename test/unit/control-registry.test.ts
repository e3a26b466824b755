// The model registry: versions, dedupe, atomic commits, deletes that release blobs, the in-use seam, and recovery.
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '../../src/control/blobs.js';
import { StoreModelUsage, type ModelUsage } from '../../src/control/model-usage.js';
import { ModelRegistry } from '../../src/control/registry.js';
import { openStore, type Db } from '../../src/control/store/db.js';
import { BerthError, type ErrorCode } from '../../src/errors/catalogue.js';

const root = mkdtempSync(join(tmpdir(), 'berth-registry-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
let db: Db;
let blobs: BlobStore;
let registry: ModelRegistry;

beforeEach(async () => {
  const home = join(root, String(++n));
  db = openStore(join(root, `${n}.db`));
  blobs = new BlobStore(home);
  registry = new ModelRegistry(db, blobs, new StoreModelUsage(db));
  await registry.recover();
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
async function* body(s: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(s);
}

/** Registers files {path: content} under `name` the way the API does: start, put each, commit. */
async function register(name: string, files: Record<string, string>, tags: Record<string, string> = {}) {
  const { upload_id } = registry.startUpload({ name, description: '', tags });
  for (const [path, content] of Object.entries(files)) await registry.putFile(upload_id, path, body(content));
  return registry.commit(upload_id, Object.entries(files).map(([path, content]) => ({ path, digest: sha(content) })));
}

function rejectsWith(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof BerthError && err.code === code);
}

test('versions count up per name, and a deleted version number is never given again', async () => {
  assert.equal((await register('m', { 'a.txt': 'one' })).version, 1);
  assert.equal((await register('m', { 'a.txt': 'two' })).version, 2);
  assert.equal((await register('other', { 'a.txt': 'x' })).version, 1);
  registry.delete({ name: 'm', version: 2 });
  assert.equal((await register('m', { 'a.txt': 'three' })).version, 3);
  assert.deepEqual(registry.list('m').map((v) => v.version), [1, 3]);
  assert.equal(registry.get({ name: 'm' }).version, 3, 'no version means the latest');
});

test('a version records files, sizes, digests and tags', async () => {
  const v = await register('m', { 'outputs/w.json': '{"w":1}', 'outputs/readme.md': 'hi' }, { stage: 'dev' });
  assert.deepEqual(v.files, [
    { path: 'outputs/readme.md', size: 2, digest: sha('hi') },
    { path: 'outputs/w.json', size: 7, digest: sha('{"w":1}') },
  ]);
  assert.equal(v.size, 9);
  assert.equal(v.file_count, 2);
  assert.deepEqual(v.tags, { stage: 'dev' });
  assert.match(v.created_at, /^\d{4}-\d\d-\d\dT/);
});

test('identical content across files and versions is stored once', async () => {
  await register('m', { 'a.bin': 'same', 'b.bin': 'same' });
  await register('m', { 'c.bin': 'same' });
  assert.deepEqual(await blobs.list(), [sha('same')]);
});

test('concurrent commits of one name get distinct, consecutive versions', async () => {
  const versions = await Promise.all(Array.from({ length: 8 }, (_, i) => register('busy', { 'f.txt': `content ${i}` })));
  assert.deepEqual(versions.map((v) => v.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('a commit whose manifest differs from what was received is refused and registers nothing', async () => {
  const { upload_id } = registry.startUpload({ name: 'm', description: '', tags: {} });
  await registry.putFile(upload_id, 'a.txt', body('A'));
  rejectsWith(() => registry.commit(upload_id, [{ path: 'a.txt', digest: sha('B') }]), 'VALIDATION_FAILED');
  rejectsWith(() => registry.commit(upload_id, [{ path: 'a.txt', digest: sha('A') }, { path: 'b.txt', digest: sha('B') }]), 'VALIDATION_FAILED');
  assert.deepEqual(registry.list(), []);
  assert.equal(registry.commit(upload_id, [{ path: 'a.txt', digest: sha('A') }]).version, 1);
  rejectsWith(() => registry.commit(upload_id, []), 'UPLOAD_NOT_FOUND');
});

test('a path used both as a file and as a folder is refused', async () => {
  const { upload_id } = registry.startUpload({ name: 'm', description: '', tags: {} });
  await registry.putFile(upload_id, 'a', body('1'));
  await registry.putFile(upload_id, 'a/b', body('2'));
  rejectsWith(() => registry.commit(upload_id, [{ path: 'a', digest: sha('1') }, { path: 'a/b', digest: sha('2') }]), 'VALIDATION_FAILED');
});

test('if a blob vanished before the commit, the transaction writes nothing', async () => {
  const { upload_id } = registry.startUpload({ name: 'm', description: '', tags: {} });
  await registry.putFile(upload_id, 'a.txt', body('A'));
  await registry.putFile(upload_id, 'b.txt', body('B'));
  rmSync(blobs.pathOf(sha('B')), { force: true });
  rejectsWith(() => registry.commit(upload_id, [{ path: 'a.txt', digest: sha('A') }, { path: 'b.txt', digest: sha('B') }]), 'STORAGE_FAILED');
  assert.deepEqual(registry.list(), []);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM model_files').get() as { n: number }).n, 0);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM models').get() as { n: number }).n, 0);
});

test('deleting a version removes its blobs unless another version shares them', async () => {
  await register('m', { 'shared.bin': 'S', 'own.bin': 'O' });
  await register('m', { 'shared.bin': 'S' });
  registry.delete({ name: 'm', version: 1 });
  assert.ok(existsSync(blobs.pathOf(sha('S'))));
  assert.ok(!existsSync(blobs.pathOf(sha('O'))));
  rejectsWith(() => registry.delete({ name: 'm', version: 1 }), 'MODEL_NOT_FOUND');
});

test('a version that a service uses cannot be deleted (the service_models seam)', async () => {
  await register('m', { 'a.txt': 'A' });
  db.prepare("INSERT INTO service_models (service, model_name, model_version) VALUES ('svc-one', 'm', 1), ('svc-two', 'm', 1)").run();
  assert.throws(() => registry.delete({ name: 'm', version: 1 }), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'MODEL_IN_USE');
    assert.equal(err.status, 409);
    assert.match(err.message, /m:1 is used by service\(s\) svc-one, svc-two/);
    return true;
  });
  assert.equal(registry.list('m').length, 1);
  assert.ok(existsSync(blobs.pathOf(sha('A'))));
});

test('any ModelUsage can be plugged in', async () => {
  const usage: ModelUsage = { servicesUsing: (name) => (name === 'm' ? ['scorer'] : []), countServices: () => 1 };
  const withUsage = new ModelRegistry(db, blobs, usage);
  await register('m', { 'a.txt': 'A' });
  rejectsWith(() => withUsage.delete({ name: 'm', version: 1 }), 'MODEL_IN_USE');
});

test('an aborted upload releases its blobs; recover() removes blobs no version references', async () => {
  await register('kept', { 'k.txt': 'K' });
  const { upload_id } = registry.startUpload({ name: 'm', description: '', tags: {} });
  await registry.putFile(upload_id, 'a.txt', body('A'));
  registry.abortUpload(upload_id);
  assert.ok(!existsSync(blobs.pathOf(sha('A'))));
  // An upload that never ends (the process was killed): a fresh registry on the same store cleans up at start.
  const second = registry.startUpload({ name: 'm', description: '', tags: {} });
  await registry.putFile(second.upload_id, 'b.txt', body('B'));
  const restarted = new ModelRegistry(db, blobs, new StoreModelUsage(db));
  assert.deepEqual(await restarted.recover(), { tempFiles: 0, orphanBlobs: 1 });
  assert.deepEqual(await blobs.list(), [sha('K')]);
});

test('verify re-hashes what versions reference and reports what is missing or corrupt', async () => {
  await register('m', { 'a.txt': 'A', 'b.txt': 'B' });
  assert.deepEqual((await registry.verify()).problems, []);
  rmSync(blobs.pathOf(sha('B')));
  const report = await registry.verify({ name: 'm', version: 1 });
  assert.equal(report.files, 2);
  assert.deepEqual(report.problems, [{ model: 'm:1', path: 'b.txt', digest: sha('B'), problem: 'missing' }]);
});

test('mountable() resolves versions to their blob paths for materializeModels', async () => {
  await register('m', { 'outputs/w.json': 'W' });
  assert.deepEqual(registry.mountable([{ name: 'm' }]), [
    { name: 'm', version: 1, files: [{ path: 'outputs/w.json', source: blobs.pathOf(sha('W')) }] },
  ]);
});
