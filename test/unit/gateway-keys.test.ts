// Key comparison: equal keys match; any difference (a character anywhere, a prefix, extra characters) does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameKey } from '../../src/gateway/auth.js';

test('sameKey matches only the exact key', () => {
  const key = 'k5Jx2Qv8Zr0Lw3Hn7Tb1Ys6Ue9Gd4Fa2Mc5Np8Rq0Sx';
  assert.equal(sameKey(key, key), true);
  assert.equal(sameKey(`${key}`.slice(0), key), true);
  const flip = (i: number): string => key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
  for (const i of [0, 1, 20, key.length - 1]) assert.equal(sameKey(flip(i), key), false, `differs at ${i}`);
  assert.equal(sameKey(key.slice(0, -1), key), false, 'a prefix');
  assert.equal(sameKey(`${key}x`, key), false, 'longer');
  assert.equal(sameKey('', key), false, 'empty');
  assert.equal(sameKey(`${key.slice(0, -1)}\u0000`, key), false, 'a NUL in place of the last character');
});
