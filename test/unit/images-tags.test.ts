// Image tags are content hashes of every input: equal inputs give equal tags whatever their order, any input change a new tag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerHash, layerTag, parseRegistry, repositoryPrefix, resolutionKey, splitTag, type AppInputs, type EnvInputs, type RuntimeInputs } from '../../src/images/tags.js';
import { BerthError } from '../../src/errors/catalogue.js';

const runtime: RuntimeInputs = { base: 'sha256:base1', baseName: 'berth/base:bookworm', berthVersion: '0.1.0', runtimeFiles: 'f'.repeat(64), node: { version: 'v20.20.2', arch: 'x64', sha256: 'n'.repeat(64) } };
const env: EnvInputs = { from: 'berth/runtime:r1', environment: { ref: 'sk:1', digest: 'd'.repeat(64), kind: 'python' }, lock: 'l'.repeat(64), python: '3.11.2' };
const app: AppInputs = { from: 'berth/env:e1', source: 's'.repeat(64), variables: { A: '1', B: '2' }, environment: 'sk:1' };

test('a layer hash is 32 hex digits, stable, and the same for the same inputs written in another order', () => {
  const h = layerHash({ kind: 'app', inputs: app });
  assert.match(h, /^[0-9a-f]{32}$/);
  assert.equal(layerHash({ kind: 'app', inputs: { environment: 'sk:1', variables: { B: '2', A: '1' }, source: app.source, from: app.from } }), h);
  assert.equal(layerTag('berth', { kind: 'app', inputs: app }), `berth/app:${h}`);
  assert.equal(layerTag('127.0.0.1:5000/ns', { kind: 'app', inputs: app }), `127.0.0.1:5000/ns/app:${h}`);
});

test('every hashed input changes the tag; names kept for people (base name, environment ref) do not', () => {
  const r = layerHash({ kind: 'runtime', inputs: runtime });
  for (const changed of [
    { ...runtime, base: 'sha256:base2' }, { ...runtime, berthVersion: '0.2.0' }, { ...runtime, runtimeFiles: 'g'.repeat(64) },
    { ...runtime, node: { ...runtime.node, version: 'v20.21.0' } }, { ...runtime, node: { ...runtime.node, sha256: 'm'.repeat(64) } },
  ]) assert.notEqual(layerHash({ kind: 'runtime', inputs: changed }), r);
  assert.equal(layerHash({ kind: 'runtime', inputs: { ...runtime, baseName: 'another/name:tag' } }), r);

  const e = layerHash({ kind: 'env', inputs: env });
  for (const changed of [{ ...env, from: 'berth/runtime:r2' }, { ...env, lock: 'k'.repeat(64) }, { ...env, python: '3.12.1' }, { ...env, environment: { ...env.environment, digest: 'c'.repeat(64) } }]) {
    assert.notEqual(layerHash({ kind: 'env', inputs: changed }), e);
  }
  assert.equal(layerHash({ kind: 'env', inputs: { ...env, environment: { ...env.environment, ref: 'other-name:7' } } }), e, 'two environments with one spec share the env layer');

  const a = layerHash({ kind: 'app', inputs: app });
  for (const changed of [{ ...app, from: 'berth/env:e2' }, { ...app, source: 't'.repeat(64) }, { ...app, variables: { A: '1', B: '3' } }, { ...app, variables: { A: '1' } }]) {
    assert.notEqual(layerHash({ kind: 'app', inputs: changed }), a);
  }
  assert.notEqual(layerHash({ kind: 'env', inputs: env }), layerHash({ kind: 'app', inputs: env as unknown as AppInputs }), 'the kind is hashed too');
});

test('resolution keys depend on the environment digest and the target interpreter', () => {
  const k = resolutionKey('d'.repeat(64), 'python 3.11.2 x86_64');
  assert.match(k, /^[0-9a-f]{32}$/);
  assert.notEqual(resolutionKey('d'.repeat(64), 'python 3.12.1 x86_64'), k);
  assert.notEqual(resolutionKey('e'.repeat(64), 'python 3.11.2 x86_64'), k);
});

test('registry settings: HOST:PORT[/NAMESPACE], loopback is plain HTTP, others HTTPS unless written', () => {
  assert.deepEqual(parseRegistry('127.0.0.1:5000'), { host: '127.0.0.1:5000', namespace: 'berth', scheme: 'http' });
  assert.deepEqual(parseRegistry('127.0.0.1:5000/berth-test-ab12/x'), { host: '127.0.0.1:5000', namespace: 'berth-test-ab12/x', scheme: 'http' });
  assert.deepEqual(parseRegistry('localhost:5000'), { host: 'localhost:5000', namespace: 'berth', scheme: 'http' });
  assert.deepEqual(parseRegistry('Registry.Example.com/team'), { host: 'registry.example.com', namespace: 'team', scheme: 'https' });
  assert.deepEqual(parseRegistry('http://10.0.0.5:5000/'), { host: '10.0.0.5:5000', namespace: 'berth', scheme: 'http' });
  for (const bad of ['', '127.0.0.1:5000/UPPER', 'host name:5000', '127.0.0.1:5000/a//b']) {
    assert.throws(() => parseRegistry(bad), (err: unknown) => err instanceof BerthError && err.code === 'INVALID_ARGUMENT' && /invalid registry/.test(err.message), bad);
  }
  assert.equal(repositoryPrefix(undefined), 'berth');
  assert.equal(repositoryPrefix(parseRegistry('127.0.0.1:5000/ns')), '127.0.0.1:5000/ns');
});

test('splitTag tells a registry port from a tag', () => {
  assert.deepEqual(splitTag('127.0.0.1:5000/ns/app:abc'), { repository: '127.0.0.1:5000/ns/app', tag: 'abc' });
  assert.deepEqual(splitTag('127.0.0.1:5000/ns/app'), { repository: '127.0.0.1:5000/ns/app', tag: 'latest' });
  assert.deepEqual(splitTag('berth/base:bookworm'), { repository: 'berth/base', tag: 'bookworm' });
});
