// The admin token: off loopback the admin API refuses requests without it (keys never leave), scoring keeps its own keys, the CLI finds it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { berth, cleanup, down, tempDir, up } from '../helpers/control-plane.js';
import { fixture, score, stopPlane, until, withCli } from '../helpers/services.js';

after(cleanup);

interface Keys { primary_key: string; secondary_key: string }

/** Requests go to 127.0.0.1 only, whatever the plane binds. */
const call = (url: string, path: string, init: RequestInit = {}): Promise<Response> => fetch(url + path, { ...init, signal: AbortSignal.timeout(30_000) });
const withToken = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

test('off loopback: a generated admin token is printed once, required on the admin API, not on scoring; the CLI reads it from the home', async (t) => {
  const home = tempDir('berth-admin-');
  const running = await up(home, ['--host', '0.0.0.0', '--capacity', 'cpu=4,memory_gb=8,gpu=0']);
  const plane = withCli(running);
  t.after(() => stopPlane(plane));
  assert.match(plane.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  // --- `berth up` warns, prints the token once, and keeps it in the home (0600).
  assert.match(plane.output, /warning: the control plane listens on 0\.0\.0\.0, off loopback/);
  const printed = /admin token \(generated[^)]*\): (\S+)/.exec(plane.output)?.[1];
  assert.ok(printed !== undefined, `no token in: ${plane.output}`);
  assert.match(printed, /^[A-Za-z0-9_-]{43}$/);
  const file = join(home, 'admin-token');
  assert.equal(readFileSync(file, 'utf8').trim(), printed);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(!readFileSync(join(home, 'logs', 'control-plane.log'), 'utf8').includes(printed), 'the token is not in the log');
  assert.ok(!readFileSync(join(home, 'control-plane.json'), 'utf8').includes(printed), 'the token is not in the run file');

  // --- the CLI on this machine reads it from the home: deploy and list work without any flag.
  await plane.ok(['deploy', '--name', 'svc', '--source-dir', fixture('.'), '--entry-script', 'noop_score.js', '--replicas', '1']);
  assert.match(await plane.ok(['service', 'list']), /\bsvc\b/);

  // --- the admin API: no token or a wrong one → 401 ADMIN_UNAUTHORIZED with WWW-Authenticate, and no key in the body.
  const keysRes = await call(plane.url, '/v1/services/svc/keys', { headers: withToken(printed) });
  assert.equal(keysRes.status, 200);
  const keys = (await keysRes.json()) as Keys;
  const refused: Array<[string, RequestInit]> = [
    ['/v1/services/svc/keys', {}],
    ['/v1/services/svc/keys', { headers: withToken(`${printed}x`) }],
    ['/v1/services/svc/keys', { headers: { authorization: printed } }],
    ['/v1/services/svc', { headers: withToken('wrong-token-of-some-length') }],
    ['/v1/services/svc/keys/regenerate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"key":"primary"}' }],
    ['/v1/status', {}],
    ['/v1/no-such-route', {}],
  ];
  for (const [path, init] of refused) {
    const res = await call(plane.url, path, init);
    const text = await res.text();
    assert.equal(res.status, 401, `${path}: ${text}`);
    assert.equal((JSON.parse(text) as { code: string }).code, 'ADMIN_UNAUTHORIZED');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.ok(!text.includes(keys.primary_key) && !text.includes(keys.secondary_key), `${path} leaked a key`);
  }
  const unchanged = (await (await call(plane.url, '/v1/services/svc/keys', { headers: withToken(printed) })).json()) as Keys;
  assert.deepEqual(unchanged, keys, 'the refused regenerate changed nothing');

  // --- POST /v1/environments runs the given interpreter: without the token nothing runs; with it, the path is run.
  const dir = tempDir('berth-admin-py-');
  const marker = join(dir, 'ran');
  const python = join(dir, 'python');
  writeFileSync(python, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 });
  const envBody = { method: 'POST', body: JSON.stringify({ name: 'e', python }) };
  for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', ...withToken('x'.repeat(43)) }]) {
    const res = await call(plane.url, '/v1/environments', { ...envBody, headers });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'ADMIN_UNAUTHORIZED');
  }
  assert.equal(existsSync(marker), false, 'the interpreter was not run without the token');
  const accepted = await call(plane.url, '/v1/environments', { ...envBody, headers: { 'content-type': 'application/json', ...withToken(printed) } });
  assert.notEqual(accepted.status, 401, await accepted.text());
  await until(() => (existsSync(marker) ? true : undefined), 20_000, 'the interpreter to run with the token');

  // --- open paths: scoring with the service's key (no admin token), metrics and the API document.
  const uri = `${plane.url}/api/v1/service/svc/score`;
  await until(async () => ((await score(uri, { x: 1 }, keys.primary_key)).status === 200 ? true : undefined), 30_000, 'scoring with the key');
  const asAdmin = await score(uri, { x: 1 }, printed);
  assert.equal(asAdmin.status, 401, 'the admin token is not a scoring key');
  assert.match(asAdmin.text, /SCORING_UNAUTHORIZED/);
  assert.equal((await call(plane.url, '/metrics')).status, 200);
  const doc = (await (await call(plane.url, '/openapi.json')).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
  assert.deepEqual(doc.paths['/v1/services/{name}/keys']?.get?.security, [{ adminToken: [] }]);
  assert.equal(doc.paths['/api/v1/service/{name}/score']?.post?.security, undefined);

  // --- the CLI: BERTH_ADMIN_TOKEN wins; a wrong one fails with one line naming it; elsewhere (--server) the home file is not sent.
  const wrong = await berth(['service', 'list'], { home, env: { BERTH_ADMIN_TOKEN: 'not-the-admin-token' } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^berth: unauthorized request to the berth admin API: the control plane at http:\/\/127\.0\.0\.1:\d+ refused the admin token from BERTH_ADMIN_TOKEN\n {2}fix: Send Authorization: Bearer <admin token>\./);
  const otherHome = tempDir('berth-admin-client-');
  const viaEnv = await berth(['service', 'list', '--server', plane.url], { home: otherHome, env: { BERTH_ADMIN_TOKEN: printed } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const none = await berth(['service', 'list', '--server', plane.url], { home: otherHome });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /requires an admin token and none was found \(looked in BERTH_ADMIN_TOKEN\)/);

  // --- a restart keeps the token (clients holding it go on working) and does not print it again.
  await down(home);
  const again = await up(home, ['--host', '0.0.0.0']);
  assert.ok(!again.output.includes(printed), again.output);
  assert.match(again.output, new RegExp(`admin token: from ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal((await call(again.url, '/v1/services', { headers: withToken(printed) })).status, 200);
  assert.equal((await call(again.url, '/v1/services')).status, 401);
  await down(home);
});

test('a given token: too short is refused at start (one line, exit 2); a token file is enforced on loopback too; loopback without one is open', async (t) => {
  const home = tempDir('berth-admin-given-');
  const short = await berth(['up', '--detach', '--port', '0', '--host', '0.0.0.0', '--admin-token', 'short'], { home });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /^berth: cannot use the admin token from --admin-token: it has 5 characters; at least 16 are needed\n {2}fix: /);
  const empty = await berth(['up', '--detach', '--port', '0', '--host', '0.0.0.0'], { home, env: { BERTH_ADMIN_TOKEN: '' } });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^berth: cannot use the admin token from BERTH_ADMIN_TOKEN: it is empty\n/);
  assert.equal(existsSync(join(home, 'control-plane.json')), false, 'nothing started');
  assert.equal(existsSync(join(home, 'admin-token')), false, 'nothing generated for a refused token');

  const tokenFile = join(tempDir('berth-admin-file-'), 'token');
  const token = 'a-given-admin-token-0123456789';
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const plane = withCli(await up(home, ['--admin-token-file', tokenFile]));
  t.after(() => stopPlane(plane));
  assert.ok(!plane.output.includes(token), 'a given token is never printed');
  assert.equal((await call(plane.url, '/v1/services')).status, 401, 'a given token is enforced on loopback too');
  assert.equal((await call(plane.url, '/v1/services', { headers: withToken(token) })).status, 200);
  assert.match(await plane.ok(['status']), /running at/); // the CLI found the file through the run file
  await down(home);

  const open = await up(home);
  assert.equal((await call(open.url, '/v1/services')).status, 200, 'loopback without a token: open as before');
  assert.doesNotMatch(open.output, /admin token/);
  await down(home);
});
