// The SQLite store: WAL, versioned migrations applied in order and once, and refusal of a store from a newer berth.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, schemaVersion } from '../../src/control/store/db.js';
import { migrations } from '../../src/control/store/migrations.js';
import { BerthError } from '../../src/errors/catalogue.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a new store gets every migration, WAL, and the latest user_version; reopening changes nothing', () => {
  const path = join(dir, 'a.db');
  const db = openStore(path);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(schemaVersion(db), migrations.length);
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  // Each part's tables are there (other parts add their own in later migrations).
  for (const table of ['model_files', 'model_versions', 'models', 'service_models', 'services', 'operations', 'events', 'replicas']) assert.ok(tables.includes(table), table);
  db.prepare("INSERT INTO models VALUES ('m', 1, 'now')").run();
  db.close();
  const again = openStore(path);
  assert.equal(schemaVersion(again), migrations.length);
  assert.equal((again.prepare('SELECT COUNT(*) AS n FROM models').get() as { n: number }).n, 1);
  again.close();
});

test('migrations run in order from the stored version, each with its version bump', () => {
  const path = join(dir, 'b.db');
  const steps = [
    { version: 1, description: 'one', sql: 'CREATE TABLE t (a INTEGER);' },
    { version: 2, description: 'two', sql: 'ALTER TABLE t ADD COLUMN b INTEGER;' },
  ];
  openStore(path, steps.slice(0, 1)).close();
  const db = openStore(path, steps);
  assert.equal(schemaVersion(db), 2);
  assert.deepEqual((db.prepare('PRAGMA table_info(t)').all() as { name: string }[]).map((c) => c.name), ['a', 'b']);
  db.close();
});

test('a failing migration leaves the store at the previous version', () => {
  const path = join(dir, 'c.db');
  const steps = [
    { version: 1, description: 'one', sql: 'CREATE TABLE t (a INTEGER);' },
    { version: 2, description: 'broken', sql: 'CREATE TABLE u (a INTEGER); THIS IS NOT SQL;' },
  ];
  assert.throws(() => openStore(path, steps));
  const db = openStore(path, steps.slice(0, 1));
  assert.equal(schemaVersion(db), 1);
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'u'").get(), undefined);
  db.close();
});

test('a store written by a newer berth is refused with STORE_TOO_NEW', () => {
  const path = join(dir, 'd.db');
  openStore(path, [
    { version: 1, description: 'one', sql: 'CREATE TABLE t (a INTEGER);' },
    { version: 2, description: 'two', sql: 'CREATE TABLE u (a INTEGER);' },
  ]).close();
  assert.throws(() => openStore(path, [{ version: 1, description: 'one', sql: 'CREATE TABLE t (a INTEGER);' }]), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'STORE_TOO_NEW');
    return true;
  });
});
