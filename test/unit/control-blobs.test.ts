// The blob store: content addressing, dedupe, digest checks, and cleanup of what a killed writer leaves behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '../../src/control/blobs.js';
import { BerthError } from '../../src/errors/catalogue.js';

const root = mkdtempSync(join(tmpdir(), 'berth-blobs-'));
after(() => rmSync(root, { recursive: true, force: true }));

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

test('a blob is stored under its sha256, read-only, and identical content is stored once', async () => {
  const blobs = new BlobStore(join(root, 'a'));
  await blobs.init();
  const first = await blobs.write(chunks('hello ', 'world'));
  assert.equal(first.digest, sha('hello world'));
  assert.equal(first.size, 11);
  assert.equal(first.created, true);
  const path = blobs.pathOf(first.digest);
  assert.equal(path, join(root, 'a', 'sha256', first.digest.slice(0, 2), first.digest));
  assert.equal(statSync(path).mode & 0o777, 0o444);
  const again = await blobs.write(chunks('hello world'));
  assert.equal(again.created, false);
  assert.deepEqual(await blobs.list(), [first.digest]);
  assert.deepEqual(readdirSync(join(root, 'a', 'tmp')), [], 'no temp file stays behind');
});

test('an announced digest that does not match refuses the bytes and keeps nothing', async () => {
  const blobs = new BlobStore(join(root, 'b'));
  await blobs.init();
  await assert.rejects(blobs.write(chunks('abc'), { digest: sha('xyz'), label: 'model.pkl' }), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'DIGEST_MISMATCH');
    assert.match(err.message, /model\.pkl/);
    return true;
  });
  assert.deepEqual(await blobs.list(), []);
  assert.deepEqual(readdirSync(join(root, 'b', 'tmp')), []);
});

test('a source that fails half-way leaves neither a blob nor a temp file', async () => {
  const blobs = new BlobStore(join(root, 'c'));
  await blobs.init();
  async function* broken(): AsyncIterable<Uint8Array> {
    yield Buffer.alloc(1000, 1);
    throw new Error('client went away');
  }
  await assert.rejects(blobs.write(broken()), /client went away/);
  assert.deepEqual(await blobs.list(), []);
  assert.deepEqual(readdirSync(join(root, 'c', 'tmp')), []);
});

test('init removes temp files left by a killed writer', async () => {
  const blobs = new BlobStore(join(root, 'd'));
  await blobs.init();
  writeFileSync(join(root, 'd', 'tmp', 'partial-upload'), Buffer.alloc(4096));
  assert.equal(await blobs.init(), 1);
  assert.deepEqual(readdirSync(join(root, 'd', 'tmp')), []);
});

test('check tells ok, missing and corrupt apart; collectGarbage keeps only what is asked', async () => {
  const blobs = new BlobStore(join(root, 'e'));
  await blobs.init();
  const a = await blobs.write(chunks('aaa'));
  const b = await blobs.write(chunks('bbb'));
  assert.equal(await blobs.check(a.digest, 3), 'ok');
  assert.equal(await blobs.check(a.digest, 4), 'corrupt');
  chmodSync(blobs.pathOf(b.digest), 0o644);
  writeFileSync(blobs.pathOf(b.digest), 'tampered');
  assert.equal(await blobs.check(b.digest), 'corrupt');
  assert.equal(await blobs.check(sha('never stored')), 'missing');
  assert.equal(await blobs.collectGarbage(new Set([a.digest])), 1);
  assert.ok(existsSync(blobs.pathOf(a.digest)));
  assert.ok(!existsSync(blobs.pathOf(b.digest)));
});
