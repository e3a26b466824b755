// Edge parsing shared by the CLI and the control plane: settings, server URL, model refs, tags, tables, the run file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseControlSettings } from '../../src/control/settings.js';
import { parseClientSettings } from '../../src/cli/api-client.js';
import { parseModelRef, parseTags, pathConflict } from '../../src/control/model-schema.js';
import { formatBytes, formatTable } from '../../src/cli/output.js';
import { startControlPlane } from '../../src/control/app.js';
import { BerthError, type ErrorCode } from '../../src/errors/catalogue.js';
import { resolveHome } from '../../src/core/home.js';

function throwsCode(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof BerthError && err.code === code && (message === undefined || message.test(err.message)));
}

test('control settings: defaults, flags over env, frozen, bad port named', () => {
  const s = parseControlSettings({}, { HOME: '/home/u' });
  assert.deepEqual(s, { home: '/home/u/.berth', host: '127.0.0.1', port: 7070, capacity: {}, scheduleTimeoutMs: 300_000, restartBackoffMs: 10_000, autoscaleStabilizationMs: 60_000, bodyTimeoutMs: 60_000, maxRequestSizeMb: 100, runtime: 'process', containerNetwork: 'bridge', replicaStandby: true, target: 'local' });
  assert.ok(Object.isFrozen(s));
  assert.equal(parseControlSettings({ home: '/x' }, { BERTH_HOME: '/y' }).home, '/x');
  assert.equal(parseControlSettings({}, { BERTH_HOME: '/y' }).home, '/y');
  assert.equal(resolveHome(undefined, { BERTH_HOME: 'rel' }), join(process.cwd(), 'rel'));
  throwsCode(() => parseControlSettings({ port: '70000' }, {}), 'INVALID_SETTINGS', /--port/);
  throwsCode(() => parseControlSettings({ port: 'abc' }, {}), 'INVALID_SETTINGS', /--port/);
  throwsCode(() => parseControlSettings({ port: '' }, {}), 'INVALID_SETTINGS', /--port/);
  assert.equal(parseControlSettings({ autoscaleStabilization: '2s' }, {}).autoscaleStabilizationMs, 2000);
  throwsCode(() => parseControlSettings({ autoscaleStabilization: 'soon' }, {}), 'INVALID_SETTINGS', /--autoscale-stabilization/);
});

test('client settings: --server over BERTH_SERVER over the default; trailing slash dropped; bad URL refused', () => {
  const noHome = { BERTH_HOME: '/nonexistent-berth-home' };
  assert.equal(parseClientSettings({}, noHome).server, 'http://127.0.0.1:7070');
  assert.equal(parseClientSettings({}, { ...noHome, BERTH_SERVER: 'http://h:1/' }).server, 'http://h:1');
  assert.equal(parseClientSettings({ server: 'http://f:2' }, { ...noHome, BERTH_SERVER: 'http://h:1' }).server, 'http://f:2');
  throwsCode(() => parseClientSettings({ server: 'ftp://x' }, noHome), 'INVALID_SETTINGS', /--server/);
});

test('model refs: NAME, NAME:V, NAME:latest; bad names and versions are one-line errors', () => {
  assert.deepEqual(parseModelRef('m'), { name: 'm' });
  assert.deepEqual(parseModelRef('my.model-1_x:12'), { name: 'my.model-1_x', version: 12 });
  assert.deepEqual(parseModelRef('m:latest'), { name: 'm' });
  throwsCode(() => parseModelRef('m', { requireVersion: true }), 'INVALID_ARGUMENT', /m:VERSION/);
  throwsCode(() => parseModelRef('m:0'), 'INVALID_ARGUMENT', /version "0"/);
  throwsCode(() => parseModelRef('-bad'), 'INVALID_ARGUMENT', /invalid model name/);
  throwsCode(() => parseModelRef('a'.repeat(256)), 'INVALID_ARGUMENT');
  assert.deepEqual(parseModelRef('a'.repeat(255)), { name: 'a'.repeat(255) });
});

test('tags: k=v (the value may hold =); missing =, empty key and repeats are refused', () => {
  assert.deepEqual(parseTags(['a=1', 'b=x=y', 'c=']), { a: '1', b: 'x=y', c: '' });
  throwsCode(() => parseTags(['novalue']), 'INVALID_ARGUMENT', /key=value/);
  throwsCode(() => parseTags(['=v']), 'INVALID_ARGUMENT');
  throwsCode(() => parseTags(['a=1', 'a=2']), 'INVALID_ARGUMENT', /twice/);
});

test('pathConflict finds a path that is both a file and a folder', () => {
  assert.equal(pathConflict(['a/b', 'a/c', 'd']), undefined);
  assert.equal(pathConflict(['a', 'a/b']), 'a');
});

test('tables align columns; numbers right-aligned; sizes readable', () => {
  const lines = formatTable([
    { header: 'NAME', value: (r: { n: string; v: number }) => r.n },
    { header: 'VERSION', value: (r) => r.v, align: 'right' },
    { header: 'TAGS', value: () => '' },
  ], [{ n: 'a', v: 1 }, { n: 'longer-name', v: 12 }]);
  assert.deepEqual(lines, ['NAME         VERSION  TAGS', 'a                  1', 'longer-name       12']);
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(200_000_000), '191 MiB');
});

test('a second control plane on the same home is refused with CONTROL_PLANE_ALREADY_RUNNING', async () => {
  const home = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  const logger = pino({ level: 'silent' });
  const first = await startControlPlane(parseControlSettings({ home, port: 0 }, {}), logger);
  try {
    await assert.rejects(startControlPlane(parseControlSettings({ home, port: 0 }, {}), logger), (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, 'CONTROL_PLANE_ALREADY_RUNNING');
      assert.match(err.message, new RegExp(`${first.url.replace(/[.]/g, '\\.')} \\(pid ${process.pid}\\)`));
      return true;
    });
  } finally {
    await first.close();
    rmSync(home, { recursive: true, force: true });
  }
});
