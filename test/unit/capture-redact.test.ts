// Redaction of captured requests: authorization always, named headers, JSON fields at any depth and query parameters; untouched bodies keep their bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactRequest, REDACTED, RedactionFailed } from '../../src/control/services/capture-redact.js';

const req = (body: string, headers: Record<string, string> = {}, path = '/score') => ({ headers, path, body: Buffer.from(body) });

test('authorization is always redacted; named headers too, whatever their case', () => {
  const r = redactRequest(req('', { authorization: 'Bearer k', 'X-Api-Token': 't', 'content-type': 'application/json', cookie: 'c=1' }), ['x-api-token']);
  assert.deepEqual(r.headers, { authorization: REDACTED, 'x-api-token': REDACTED, 'content-type': 'application/json', cookie: 'c=1' });
  assert.deepEqual(r.redacted, ['header authorization', 'header x-api-token']);
  assert.equal(redactRequest(req('', { authorization: 'Bearer k' }), []).headers.authorization, REDACTED, 'with no names given');
});

test('named JSON fields are replaced at any depth, in objects inside lists, whatever their value', () => {
  const body = JSON.stringify({ password: 'p', user: { name: 'ann', Password: { nested: 'secret' } }, items: [{ ssn: '123' }, { ssn: 456 }, 'ssn'] });
  const r = redactRequest(req(body), ['password', 'SSN']);
  assert.deepEqual(JSON.parse(r.body.toString()), { password: REDACTED, user: { name: 'ann', Password: REDACTED }, items: [{ ssn: REDACTED }, { ssn: REDACTED }, 'ssn'] });
  assert.deepEqual(r.redacted, ['body.password', 'body.user.Password', 'body.items[0].ssn', 'body.items[1].ssn']);
  assert.ok(!r.body.toString().includes('secret') && !r.body.toString().includes('123'));
});

test('a body with nothing to redact keeps its exact bytes; a body that is not JSON is kept as it is', () => {
  const spaced = '{ "x" : 1,\n  "y": [1, 2] }';
  assert.equal(redactRequest(req(spaced), ['password']).body.toString(), spaced);
  assert.equal(redactRequest(req('password=hunter2'), ['password']).body.toString(), 'password=hunter2');
  assert.equal(redactRequest(req('{"password": broken'), ['password']).body.toString(), '{"password": broken');
});

test('query parameters are redacted by name', () => {
  const r = redactRequest(req('', {}, '/score?token=abc&x=1&Token=def'), ['token']);
  assert.equal(r.path, `/score?token=${encodeURIComponent(REDACTED)}&x=1&Token=${encodeURIComponent(REDACTED)}`);
  assert.equal(redactRequest(req('', {}, '/score?x=1'), ['token']).path, '/score?x=1');
});

test('a __proto__ key stays a plain field; a body too deep to search is refused, never kept unredacted', () => {
  const r = redactRequest(req('{"__proto__": {"password": "p"}, "a": 1}'), ['password']);
  assert.deepEqual(JSON.parse(r.body.toString()), { ['__proto__']: { password: REDACTED }, a: 1 });
  const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
  let parsed = true;
  try { JSON.parse(deep); } catch { parsed = false; }
  if (parsed) assert.throws(() => redactRequest(req(deep), ['password']), RedactionFailed);
});
