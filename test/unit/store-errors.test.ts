// A store that fails (full disk, I/O error, a file it cannot open) is 507 STORAGE_FAILED through the real API server
// and at start-up, not 500 INTERNAL; other errors keep their codes.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { startControlPlane } from '../../src/control/app.js';
import { parseControlSettings } from '../../src/control/settings.js';
import { inProcessPlane } from '../helpers/in-process-plane.js';
import { BerthError } from '../../src/errors/catalogue.js';
import { toHttpError } from '../../src/errors/http.js';
import { storageErrorCode } from '../../src/errors/storage.js';

const { home, plane: running } = inProcessPlane('berth-store-errors-');

/** The plane's own SQLite connection (per-connection settings such as max_page_count only act there). */
const planeDb = (): Database.Database => (running().registry as unknown as { db: Database.Database }).db;

async function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' || body === undefined ? body : new Uint8Array(body);
  const res = await fetch(running().url + path, { method, body: payload, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

/** An upload of one small file, ready to commit; returns the commit call. */
async function upload(name: string, description: string): Promise<() => ReturnType<typeof call>> {
  const content = Buffer.from(`weights of ${name}`);
  const digest = createHash('sha256').update(content).digest('hex');
  const started = await call('POST', '/v1/uploads', JSON.stringify({ name, description }));
  const id = String(started.json?.upload_id);
  const put = await call('PUT', `/v1/uploads/${id}/files?path=w.bin`, content, { 'content-type': 'application/octet-stream' });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  return () => call('POST', `/v1/uploads/${id}/commit`, JSON.stringify({ files: [{ path: 'w.bin', digest }] }));
}

function assertStorageFailed(r: { status: number; json?: Record<string, unknown> }, code: string): void {
  assert.equal(r.status, 507, JSON.stringify(r.json));
  assert.equal(r.json?.code, 'STORAGE_FAILED');
  assert.match(String(r.json?.message), new RegExp(`under ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${code}`));
  assert.match(String(r.json?.fix), /Free disk space/);
}

test('a metadata write that finds the database full (a real SQLITE_FULL) is 507, and succeeds once there is room', async () => {
  const commit = await upload('full-model', 'd'.repeat(4096));
  const db = planeDb();
  db.exec('VACUUM'); // no free pages left to reuse: the next page the database needs is past the limit
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  try {
    assertStorageFailed(await commit(), 'SQLITE_FULL');
    assert.equal((await call('GET', '/v1/status')).status, 200, 'the plane keeps serving');
  } finally {
    db.pragma('max_page_count = 1073741823');
  }
  // Nothing was half-written: the same upload commits once space is back.
  const again = await commit();
  assert.equal(again.status, 201, JSON.stringify(again.json));
  assert.equal(again.json?.version, 1);
});

test('DELETE of a model version on a full or failing disk is 507, not INTERNAL', async (t) => {
  const commit = await upload('deleted-model', '');
  assert.equal((await commit()).status, 201);
  const db = planeDb();
  const prepare = db.prepare.bind(db);
  let failWith = 'SQLITE_FULL';
  const injected = mock.method(db, 'prepare', (sql: string) => {
    if (sql.startsWith('DELETE FROM model_versions')) throw new Database.SqliteError(failWith === 'SQLITE_FULL' ? 'database or disk is full' : 'disk I/O error', failWith);
    return prepare(sql);
  });
  t.after(() => injected.mock.restore());
  assertStorageFailed(await call('DELETE', '/v1/models/deleted-model/versions/1'), 'SQLITE_FULL');
  failWith = 'SQLITE_IOERR_WRITE';
  assertStorageFailed(await call('DELETE', '/v1/models/deleted-model/versions/1'), 'SQLITE_IOERR_WRITE');
  injected.mock.restore();
  assert.equal((await call('DELETE', '/v1/models/deleted-model/versions/1')).status, 204);
});

test('a store that cannot be opened at start-up is STORAGE_FAILED naming the home', async () => {
  const other = mkdtempSync(join(tmpdir(), 'berth-store-errors-'));
  try {
    mkdirSync(join(other, 'berth.db')); // a folder where the database file should be: SQLITE_CANTOPEN
    await assert.rejects(startControlPlane(parseControlSettings({ home: other, port: 0 }, {}), pino({ level: 'silent' })), (err: unknown) => {
      assert.ok(err instanceof BerthError, String(err));
      assert.equal(err.code, 'STORAGE_FAILED');
      assert.match(err.message, /SQLITE_CANTOPEN/);
      return true;
    });
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('which errors are storage failures: full, quota, I/O, read-only, cannot open; not bugs, contention or corruption', () => {
  const fsError = (code: string): Error => Object.assign(new Error(`${code}: failed`), { code });
  for (const code of ['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS']) assert.equal(storageErrorCode(fsError(code)), code);
  for (const code of ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_FSYNC', 'SQLITE_IOERR_SHORT_READ', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED']) {
    assert.equal(storageErrorCode(new Database.SqliteError('x', code)), code);
  }
  for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_BUSY', 'SQLITE_CORRUPT', 'SQLITE_IOERR_NOMEM', 'SQLITE_FULLX', 'ENOENT', 'EACCES', 'ERR_INVALID_ARG_TYPE']) {
    assert.equal(storageErrorCode(Object.assign(new Error('x'), { code })), undefined, code);
  }
  assert.equal(storageErrorCode(fsError('EACCES'), { permissions: true }), 'EACCES', 'the blob store counts a home it may not write');
  assert.equal(storageErrorCode(new Error('wrapped', { cause: fsError('ENOSPC') })), 'ENOSPC', 'found through cause');
  assert.equal(toHttpError(new TypeError('x is undefined')).status, 500);
  assert.equal(toHttpError(new BerthError('MODEL_IN_USE', { model: 'm:1', services: 's' })).status, 409);
  const mapped = toHttpError(new Database.SqliteError('database or disk is full', 'SQLITE_FULL'), 'req-1', {}, '/h');
  assert.deepEqual([mapped.status, mapped.body.code, mapped.body.message], [507, 'STORAGE_FAILED', 'could not write to the store under /h: database or disk is full (SQLITE_FULL)']);
});
