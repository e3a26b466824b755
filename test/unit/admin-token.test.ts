// The admin token's parts: loopback hosts, the constant-time compare, the guard's open paths, where the token comes from, the CLI's pick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { checkAdminToken, isLoopbackHost, resolveAdminToken } from '../../src/control/admin-token.js';
import { adminGuard, isOpenPath, sameSecret } from '../../src/control/api/admin-auth.js';
import { adminCredential } from '../../src/cli/admin-credential.js';
import { parseControlSettings } from '../../src/control/settings.js';
import { startControlPlane } from '../../src/control/app.js';
import { BerthError, type ErrorCode } from '../../src/errors/catalogue.js';

function isCode(code: ErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof BerthError && err.code === code && (message === undefined || message.test(err.message));
}

function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'berth-admin-unit-'));
}

test('loopback hosts: 127.0.0.0/8, ::1 in any spelling, IPv4-mapped 127.x and localhost; everything else is off loopback', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '0:0:0:0:0:0:0:1', '0000::0001', '::ffff:127.0.0.1', 'localhost', 'LocalHost', 'localhost.']) {
    assert.equal(isLoopbackHost(host), true, host);
  }
  for (const host of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '192.168.1.10', '10.0.0.1', '128.0.0.1', '::ffff:192.168.0.1', '::ffff:0.0.0.0', 'fe80::1', '127.1', 'example.com', '127.0.0.1.nip.io', 'localhost.example.com']) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});

test('sameSecret compares SHA-256 digests: equal only for the same string, whatever the lengths', () => {
  const token = 'Zr3Lq9x2sVbN8kP1wQ7eT5yU0iO4aS6d';
  assert.equal(sameSecret(token, token), true);
  assert.equal(sameSecret(`${token}`.slice(0), token), true);
  for (const other of ['', token.slice(0, -1), `${token}x`, `${token.slice(0, -1)}e`, token.toLowerCase(), `x${token}`, 'ü'.repeat(32)]) {
    assert.equal(sameSecret(other, token), false, other);
  }
});

test('the guard: scoring, metrics and the API document stay open; every other path wants Bearer <admin token>', () => {
  const token = 'a-long-enough-admin-token';
  assert.equal(adminGuard(undefined), undefined, 'no token: no guard');
  const guard = adminGuard(token)!;
  const request = (authorization?: string): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
  const response = (): { res: ServerResponse; headers: Map<string, string> } => {
    const headers = new Map<string, string>();
    return { res: { setHeader: (k: string, v: string) => headers.set(k, v) } as unknown as ServerResponse, headers };
  };
  for (const path of ['/api/v1/service/fraud/score', '/api/v1/service/fraud/swagger.json', '/metrics', '/openapi.json']) {
    assert.equal(isOpenPath(path), true, path);
    assert.doesNotThrow(() => guard(request(), response().res, path));
  }
  for (const path of ['/v1/services/fraud/keys', '/v1/environments', '/v1/status', '/v1/nope', '/', '/metrics/', '/api/v1/service/fraud/keys', '/api/v1/service/a/b/score']) {
    assert.equal(isOpenPath(path), false, path);
    for (const [header, detail] of [[undefined, /no Authorization header/], [token, /not of the form/], [`Bearer ${token}x`, /invalid admin token/], ['Bearer ', /not of the form/]] as const) {
      const { res, headers } = response();
      assert.throws(() => guard(request(header), res, path), isCode('ADMIN_UNAUTHORIZED', detail), `${path} ${header}`);
      assert.equal(headers.get('www-authenticate'), 'Bearer realm="berth admin"');
    }
    assert.doesNotThrow(() => guard(request(`Bearer ${token}`), response().res, path));
    assert.doesNotThrow(() => guard(request(`bearer  ${token} `), response().res, path));
  }
});

test('token checks: empty, short, long, spaces and control characters are refused naming the source', () => {
  assert.equal(checkAdminToken('0123456789abcdef', 'X'), '0123456789abcdef');
  assert.throws(() => checkAdminToken('', 'BERTH_ADMIN_TOKEN'), isCode('ADMIN_TOKEN_INVALID', /from BERTH_ADMIN_TOKEN: it is empty/));
  assert.throws(() => checkAdminToken('0123456789abcde', '--admin-token'), isCode('ADMIN_TOKEN_INVALID', /it has 15 characters; at least 16/));
  assert.throws(() => checkAdminToken('x'.repeat(4097), 'f'), isCode('ADMIN_TOKEN_INVALID', /more than 4096/));
  assert.throws(() => checkAdminToken('0123456789 abcdef', 'f'), isCode('ADMIN_TOKEN_INVALID', /printable ASCII/));
  assert.throws(() => checkAdminToken('0123456789abcdéf', 'f'), isCode('ADMIN_TOKEN_INVALID', /printable ASCII/));
  assert.throws(() => checkAdminToken('0123456789abcdef\x01', 'f'), isCode('ADMIN_TOKEN_INVALID', /printable ASCII/));
});

test('where the token comes from: loopback needs none; off loopback one is generated (0600) once and then kept; given ones win', () => {
  const home = tempHome();
  try {
    assert.equal(resolveAdminToken({ home, host: '127.0.0.1' }), undefined);
    assert.equal(existsSync(join(home, 'admin-token')), false, 'loopback generates nothing');
    const made = resolveAdminToken({ home, host: '0.0.0.0' })!;
    assert.equal(made.generated, true);
    assert.match(made.value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(made.file, join(home, 'admin-token'));
    assert.equal(readFileSync(made.file, 'utf8'), `${made.value}\n`);
    assert.equal(statSync(made.file).mode & 0o777, 0o600);
    const kept = resolveAdminToken({ home, host: '192.168.1.10' })!;
    assert.deepEqual({ ...kept }, { ...made, generated: false });

    const file = join(home, 'given');
    writeFileSync(file, '  0123456789abcdefXYZ \n');
    assert.deepEqual(resolveAdminToken({ home, host: '::', source: { kind: 'file', path: file } }), { value: '0123456789abcdefXYZ', from: file, file, generated: false });
    assert.deepEqual(resolveAdminToken({ home, host: '::1', source: { kind: 'value', value: 'v'.repeat(16), from: 'BERTH_ADMIN_TOKEN' } }), { value: 'v'.repeat(16), from: 'BERTH_ADMIN_TOKEN', generated: false });
    assert.throws(() => resolveAdminToken({ home, host: '::1', source: { kind: 'file', path: join(home, 'missing') } }), isCode('ADMIN_TOKEN_INVALID', /cannot read it \(ENOENT\)/));
    writeFileSync(join(home, 'admin-token'), 'short\n');
    assert.throws(() => resolveAdminToken({ home, host: '0.0.0.0' }), isCode('ADMIN_TOKEN_INVALID', /admin-token: it has 5 characters/));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('settings: --admin-token, --admin-token-file (made absolute), BERTH_ADMIN_TOKEN; not both flags', () => {
  assert.equal(parseControlSettings({ home: '/h' }, {}).adminTokenSource, undefined);
  assert.deepEqual(parseControlSettings({ home: '/h' }, { BERTH_ADMIN_TOKEN: '' }).adminTokenSource, { kind: 'value', value: '', from: 'BERTH_ADMIN_TOKEN' });
  assert.deepEqual(parseControlSettings({ home: '/h', adminToken: 't' }, { BERTH_ADMIN_TOKEN: 'e' }).adminTokenSource, { kind: 'value', value: 't', from: '--admin-token' });
  assert.deepEqual(parseControlSettings({ home: '/h', adminTokenFile: 'tok' }, { BERTH_ADMIN_TOKEN: 'e' }).adminTokenSource, { kind: 'file', path: join(process.cwd(), 'tok') });
  assert.throws(() => parseControlSettings({ home: '/h', adminToken: 't', adminTokenFile: 'f' }, {}), isCode('INVALID_SETTINGS', /give one of them, not both/));
});

test('the CLI sends BERTH_ADMIN_TOKEN, else the run file\'s token file, and that file only to the plane that wrote it', () => {
  const home = tempHome();
  try {
    const file = join(home, 'admin-token');
    writeFileSync(file, 'from-the-file-0123456789\n');
    const running = { pid: 1, home, version: '0', started_at: '', url: 'http://127.0.0.1:7171', admin_token_file: file };
    assert.deepEqual(adminCredential('http://127.0.0.1:7171', running, home, { BERTH_ADMIN_TOKEN: 'from-env-0123456789' }), { adminToken: { value: 'from-env-0123456789', from: 'BERTH_ADMIN_TOKEN' } });
    assert.deepEqual(adminCredential('http://127.0.0.1:7171/', running, home, {}), { adminToken: { value: 'from-the-file-0123456789', from: file } });
    assert.deepEqual(adminCredential('http://10.0.0.9:7171', running, home, {}), { adminTokenLookedIn: 'BERTH_ADMIN_TOKEN' });
    assert.deepEqual(adminCredential('http://127.0.0.1:7070', undefined, home, { BERTH_ADMIN_TOKEN: '' }), { adminTokenLookedIn: 'BERTH_ADMIN_TOKEN' });
    assert.match(adminCredential('http://127.0.0.1:7171', { ...running, admin_token_file: undefined }, home, {}).adminTokenLookedIn ?? '', /keeps no token file/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('the control plane refuses to start off loopback without a token, and enforces one it is given', async () => {
  const home = tempHome();
  const logger = pino({ level: 'silent' });
  try {
    await assert.rejects(startControlPlane(parseControlSettings({ home, port: 0, host: '0.0.0.0' }, {}), logger), isCode('ADMIN_TOKEN_REQUIRED', /listen on 0\.0\.0\.0, off loopback/));
    assert.equal(existsSync(join(home, 'control-plane.json')), false);
    const value = 'in-process-admin-token-0123';
    const plane = await startControlPlane(parseControlSettings({ home, port: 0, host: '127.0.0.1' }, {}), logger, { adminToken: { value, from: 'test', generated: false } });
    try {
      const status = (authorization?: string): Promise<number> => fetch(`${plane.url}/v1/status`, { headers: authorization === undefined ? {} : { authorization } }).then((r) => r.status);
      assert.equal(await status(), 401);
      assert.equal(await status(`Bearer ${value}`), 200);
      assert.equal((await fetch(`${plane.url}/openapi.json`)).status, 200);
    } finally {
      await plane.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
