// Key checks: keys are kept as SHA-256 digests and compared with timingSafeEqual; only the exact keys match.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { authenticate, compileAuth, TokenAuthority } from '../../src/gateway/auth.js';
import { BerthError } from '../../src/errors/catalogue.js';
import { fakeClock } from '../helpers/fake-clock.js';

const PRIMARY = 'k5Jx2Qv8Zr0Lw3Hn7Tb1Ys6Ue9Gd4Fa2Mc5Np8Rq0Sx';
const SECONDARY = 'Pq7Wm3Xc9Vb2Nz6Lk0Jh4Gf8Ds1Ar5Ty3Ui7Oe2Kw9M';
const tokens = new TokenAuthority(new Uint8Array(32), fakeClock());
const digest = (text: string): Buffer => crypto.createHash('sha256').update(text).digest();

function accepts(credential: string): boolean {
  const auth = compileAuth('key', PRIMARY, SECONDARY);
  try {
    assert.equal(authenticate(auth, `Bearer ${credential}`, 'svc', tokens), undefined, 'keys are checked synchronously');
    return true;
  } catch (err) {
    assert.ok(err instanceof BerthError && err.code === 'SCORING_UNAUTHORIZED', String(err));
    return false;
  }
}

test('a compiled key auth holds the SHA-256 digests of the keys, not the keys', () => {
  const auth = compileAuth('key', PRIMARY, SECONDARY);
  assert.equal(auth.mode, 'key');
  assert.ok(auth.mode === 'key');
  assert.deepEqual(auth.digests.map((d) => Buffer.from(d).toString('hex')), [digest(PRIMARY).toString('hex'), digest(SECONDARY).toString('hex')]);
  const kept = JSON.stringify(auth);
  assert.ok(!kept.includes(PRIMARY) && !kept.includes(SECONDARY), 'no key in clear');
});

test('either key matches; any difference (a character anywhere, a prefix, extra characters) does not', () => {
  assert.equal(accepts(PRIMARY), true);
  assert.equal(accepts(SECONDARY), true);
  const flip = (key: string, i: number): string => key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
  for (const key of [PRIMARY, SECONDARY]) {
    for (const i of [0, 1, 20, key.length - 1]) assert.equal(accepts(flip(key, i)), false, `differs at ${i}`);
    assert.equal(accepts(key.slice(0, -1)), false, 'a prefix');
    assert.equal(accepts(`${key}x`), false, 'longer');
    assert.equal(accepts(`${key.slice(0, -1)}\u0000`), false, 'a NUL in place of the last character');
  }
  assert.equal(accepts(`${PRIMARY}${SECONDARY}`), false, 'both keys run together');
});

test('each check compares the credential\'s digest with both keys\' digests through timingSafeEqual', (t) => {
  const spy = mock.method(crypto, 'timingSafeEqual');
  syncBuiltinESMExports(); // so the module's `node:crypto` import sees the spy
  t.after(() => { spy.mock.restore(); syncBuiltinESMExports(); });
  for (const [credential, ok] of [[PRIMARY, true], [SECONDARY, true], ['wrong', false]] as const) {
    spy.mock.resetCalls();
    assert.equal(accepts(credential), ok, credential);
    const calls = spy.mock.calls.map((c) => c.arguments.map((a) => Buffer.from(a as Uint8Array).toString('hex')));
    const want = digest(credential).toString('hex');
    // Both comparisons run whichever key matched: the timing does not say which.
    assert.deepEqual(calls, [[want, digest(PRIMARY).toString('hex')], [want, digest(SECONDARY).toString('hex')]], credential);
  }
});
