// Every error code in the catalogue has a section in docs/troubleshooting.md, and every section a code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { catalogue, errorCodes, BerthError } from '../../src/errors/catalogue.js';
import { toHttpError } from '../../src/errors/http.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';

const doc = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
const sections = [...doc.matchAll(/^## ([A-Z0-9_]+)\s*$/gm)].map((m) => m[1]);

test('every error code has a troubleshooting section', () => {
  const missing = errorCodes.filter((code) => !sections.includes(code));
  assert.deepEqual(missing, [], `codes without a section in docs/troubleshooting.md: ${missing.join(', ')}`);
});

test('every troubleshooting section names a known code', () => {
  const unknown = sections.filter((s) => !(errorCodes as string[]).includes(s!));
  assert.deepEqual(unknown, [], `sections without a code: ${unknown.join(', ')}`);
});

test('every code has an HTTP status, a message and a fix', () => {
  for (const [code, entry] of Object.entries(catalogue)) {
    assert.ok(entry.status >= 400 && entry.status < 600, `${code} status`);
    assert.ok(entry.message.length > 0 && entry.fix.length > 0, `${code} text`);
  }
});

test('templates are filled from params, and the HTTP body carries code, message and request id', () => {
  const err = new BerthError('SCORING_TIMEOUT', { timeoutMs: 250 });
  assert.equal(err.message, 'scoring timeout after 250 ms; the worker is recycled');
  const { status, body } = toHttpError(err, 'req-1');
  assert.equal(status, 504);
  assert.equal(body.code, 'SCORING_TIMEOUT');
  assert.equal(body.request_id, 'req-1');
});

test('unknown errors map to INTERNAL 500, and start-up failures to exit code 3', () => {
  assert.equal(toHttpError(new Error('x')).status, 500);
  assert.equal(exitCodeFor('INIT_FAILED'), 3);
  assert.equal(exitCodeFor('INVALID_SETTINGS'), 2);
  assert.equal(exitCodeFor('INTERNAL'), 1);
});
