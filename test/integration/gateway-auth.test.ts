// Scoring auth through the gateway: keys (primary, secondary, missing, wrong, regenerated), tokens (valid, expired, forged, other service), none.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, score, startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

interface Keys { auth: string; primary_key: string; secondary_key: string }
interface Token { access_token: string; expires_on: string; refresh_after: string }

test('key, token and no auth on the scoring URI, with the CLI commands that manage them', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const src = ['--source-dir', fixture('.'), '--entry-script', 'sum_score.py', '--replicas', '1'];
  await plane.ok(['deploy', '--name', 'keyed', ...src]);
  await plane.ok(['deploy', '--name', 'tokened', ...src, '--token-auth']);
  await plane.ok(['deploy', '--name', 'open', ...src, '--no-auth']);
  const uri = (name: string): string => `${plane.url}/api/v1/service/${name}/score`;
  const body = { data: [[1, 2]] };

  // --- keys: both work; missing and wrong get 401 with a JSON body naming the request id.
  const keys = JSON.parse(await plane.ok(['service', 'keys', 'keyed', '-o', 'json'])) as Keys;
  assert.equal(keys.auth, 'key');
  assert.match(keys.primary_key, /^[A-Za-z0-9_-]{43}$/);
  assert.equal((await score(uri('keyed'), body, keys.primary_key)).status, 200);
  assert.equal((await score(uri('keyed'), body, keys.secondary_key)).status, 200);
  for (const [headers, message] of [
    [{}, /no Authorization header/],
    [{ authorization: `Bearer ${keys.primary_key}x` }, /invalid key/],
    [{ authorization: keys.primary_key }, /not of the form "Bearer <credential>"/],
  ] as const) {
    const res = await fetch(uri('keyed'), { method: 'POST', body: '{}', headers: { ...headers, 'x-request-id': 'auth-req' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-request-id'), 'auth-req');
    const err = (await res.json()) as { message: string; code: string; request_id: string };
    assert.equal(err.code, 'SCORING_UNAUTHORIZED');
    assert.equal(err.request_id, 'auth-req');
    assert.match(err.message, message);
  }
  assert.deepEqual(JSON.parse(await plane.ok(['service', 'run', 'keyed', '--data', '{"data": [[2, 2]]}'])), { result: [4] });

  // --- a regenerated key replaces the old one at once; the other key is untouched.
  const regen = await plane.ok(['service', 'regen-key', 'keyed', '--key', 'primary']);
  const fresh = JSON.parse(await plane.ok(['service', 'keys', 'keyed', '-o', 'json'])) as Keys;
  assert.match(regen, new RegExp(`primary key: +${fresh.primary_key}`));
  assert.notEqual(fresh.primary_key, keys.primary_key);
  assert.equal(fresh.secondary_key, keys.secondary_key);
  assert.equal((await score(uri('keyed'), body, keys.primary_key)).status, 401, 'the old primary key no longer works');
  assert.equal((await score(uri('keyed'), body, fresh.primary_key)).status, 200);
  assert.equal((await score(uri('keyed'), body, keys.secondary_key)).status, 200);
  assert.ok((await plane.events('keyed')).some((e) => e.type === 'KeyRegenerated' && /primary key was regenerated/.test(e.message)));
  const badKey = await plane.cli(['service', 'regen-key', 'keyed', '--key', 'tertiary']);
  assert.equal(badKey.code, 2);
  assert.match(badKey.stderr, /--key must be primary or secondary/);

  // --- tokens: valid; a key is not; expired, forged and another service's are refused, saying why.
  const token = JSON.parse(await plane.ok(['service', 'token', 'tokened', '-o', 'json'])) as Token;
  const lifetimeH = (Date.parse(token.expires_on) - Date.now()) / 3_600_000;
  assert.ok(lifetimeH > 11.9 && lifetimeH <= 12, `default lifetime 12 h (got ${lifetimeH.toFixed(2)} h)`);
  assert.equal((await score(uri('tokened'), body, token.access_token)).status, 200);
  const tokenedKeys = JSON.parse(await plane.ok(['service', 'keys', 'tokened', '-o', 'json'])) as Keys;
  assert.equal(tokenedKeys.auth, 'token');
  assert.equal((await score(uri('tokened'), body, tokenedKeys.primary_key)).status, 401, 'keys do not open a token-auth service');
  assert.equal((await score(uri('keyed'), body, token.access_token)).status, 401, 'a token does not open a key-auth service');
  assert.deepEqual(JSON.parse(await plane.ok(['service', 'run', 'tokened', '--data', '{"data": [[3, 3]]}'])), { result: [6] });
  const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('berth').setAudience('tokened').setSubject('tokened')
    .setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode('not-the-control-planes-secret-at-all!'));
  const forgedRes = await score(uri('tokened'), body, forged);
  assert.equal(forgedRes.status, 401);
  assert.match(forgedRes.text, /invalid token \(signature verification failed\)/);
  const short = JSON.parse(await plane.ok(['service', 'token', 'tokened', '--lifetime', '1s', '-o', 'json'])) as Token;
  const expired = await until(async () => {
    const r = await score(uri('tokened'), body, short.access_token);
    return r.status === 401 ? r : undefined;
  }, 10_000, 'the 1 s token expired');
  assert.match(expired.text, /the token expired at .*; get a new one with: berth service token tokened/);
  const wrongMode = await plane.cli(['service', 'token', 'keyed']);
  assert.equal(wrongMode.code, 1);
  assert.match(wrongMode.stderr, /^berth: service keyed uses key auth: tokens are issued only to services with token auth/m);

  // --- no auth: no header needed.
  assert.equal((await score(uri('open'), body)).status, 200);
});
