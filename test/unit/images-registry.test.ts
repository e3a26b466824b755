// The registry and engine edges: manifest HEAD with the right Accept headers and auth, the Docker config's credentials,
// engine progress streams with errors inside a 200, DOCKER_HOST, and the plane's image settings.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { dockerCredentials, MANIFEST_ACCEPT, RegistryClient } from '../../src/images/registry.js';
import { DockerConnection, dockerEndpoint, readProgress } from '../../src/images/docker.js';
import { BerthError } from '../../src/errors/catalogue.js';
import { parseControlSettings } from '../../src/control/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function fakeRegistry(handle: (req: IncomingMessage, res: ServerResponse, port: number) => void): Promise<{ port: number; close: () => void }> {
  const server = createServer((req, res) => handle(req, res, (server.address() as AddressInfo).port));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

test('manifest HEAD: the digest when present (asked with the v2/OCI Accept types), undefined when absent', async () => {
  const seen: string[] = [];
  const reg = await fakeRegistry((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.accept}`);
    if (req.url === '/v2/ns/app/manifests/abc') res.writeHead(200, { 'docker-content-digest': 'sha256:1234' }).end();
    else res.writeHead(404).end();
  });
  try {
    const client = new RegistryClient({ host: `127.0.0.1:${reg.port}`, namespace: 'ns', scheme: 'http' }, undefined);
    assert.equal(await client.manifestDigest('ns/app', 'abc'), 'sha256:1234');
    assert.equal(await client.manifestDigest('ns/app', 'nope'), undefined);
    assert.equal(seen[0], `HEAD /v2/ns/app/manifests/abc ${MANIFEST_ACCEPT}`);
    assert.match(MANIFEST_ACCEPT, /application\/vnd\.docker\.distribution\.manifest\.v2\+json/);
    assert.match(MANIFEST_ACCEPT, /application\/vnd\.oci\.image\.index\.v1\+json/);
  } finally {
    reg.close();
  }
});

test('a 401 is answered with Basic credentials, or with a Bearer token from the realm the registry names', async () => {
  const creds = { username: 'alice', password: 's3cret' };
  const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
  const reg = await fakeRegistry((req, res, port) => {
    if (req.url?.startsWith('/token')) {
      const ok = req.headers.authorization === basic && req.url.includes('scope=repository%3Ans%2Fapp%3Apull');
      return ok ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'T0K' })) : res.writeHead(401).end();
    }
    if (req.url?.startsWith('/v2/basic/')) {
      return req.headers.authorization === basic ? res.writeHead(200, { 'docker-content-digest': 'sha256:b' }).end() : res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
    }
    if (req.headers.authorization === 'Bearer T0K') return res.writeHead(200, { 'docker-content-digest': 'sha256:t' }).end();
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="reg"` }).end();
  });
  try {
    const target = { host: `127.0.0.1:${reg.port}`, namespace: 'ns', scheme: 'http' as const };
    assert.equal(await new RegistryClient(target, creds).manifestDigest('basic/app', 'x'), 'sha256:b');
    assert.equal(await new RegistryClient(target, creds).manifestDigest('ns/app', 'x'), 'sha256:t');
    await assert.rejects(new RegistryClient(target, undefined).manifestDigest('ns/app', 'x'), (err: unknown) =>
      err instanceof BerthError && err.code === 'REGISTRY_UNAUTHORIZED' && /answered 401 and the Docker config has no credentials/.test(err.message));
    assert.deepEqual(new RegistryClient(target, creds).engineAuth(), { ...creds, serveraddress: target.host });
  } finally {
    reg.close();
  }
});

test('a registry that does not answer is REGISTRY_UNREACHABLE, naming it and the socket error', async () => {
  const reg = await fakeRegistry((_req, res) => res.end());
  reg.close();
  await new Promise((r) => setTimeout(r, 50));
  const client = new RegistryClient({ host: `127.0.0.1:${reg.port}`, namespace: 'berth', scheme: 'http' }, undefined);
  await assert.rejects(client.manifestDigest('berth/app', 'x'), (err: unknown) =>
    err instanceof BerthError && err.code === 'REGISTRY_UNREACHABLE' && err.message.includes(`127.0.0.1:${reg.port}`) && /ECONNREFUSED/.test(err.message));
});

test('credentials come from $DOCKER_CONFIG/config.json (else ~/.docker), matched by host with or without scheme', () => {
  const config = join(dir, 'docker');
  rmSync(config, { recursive: true, force: true });
  mkdirSync(config);
  writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: {
    'https://reg.example.com/v1/': { auth: Buffer.from('bob:pa:ss').toString('base64') },
    '127.0.0.1:5000': { username: 'u', password: 'p' },
  } }));
  assert.deepEqual(dockerCredentials({ DOCKER_CONFIG: config }, 'reg.example.com'), { username: 'bob', password: 'pa:ss' });
  assert.deepEqual(dockerCredentials({ DOCKER_CONFIG: config }, '127.0.0.1:5000'), { username: 'u', password: 'p' });
  assert.equal(dockerCredentials({ DOCKER_CONFIG: config }, 'other:5000'), undefined);
  assert.equal(dockerCredentials({ HOME: join(dir, 'nohome') }, 'reg.example.com'), undefined);
});

test('the engine\'s progress stream: an error line inside a 200 answer is returned, every line is seen', async () => {
  const lines = [{ stream: 'Step 1/2 : FROM x\n' }, { stream: ' ---> abc\n' }, { stream: 'Step 2/2 : RUN false\n' }, { errorDetail: { message: 'The command \'/bin/sh -c false\' returned a non-zero code: 1' }, error: 'The command returned a non-zero code: 1' }];
  const text = lines.map((l) => JSON.stringify(l)).join('\r\n');
  const seen: unknown[] = [];
  // Split mid-line, as sockets do.
  const result = await readProgress(Readable.from([text.slice(0, 17), text.slice(17)]), (l) => seen.push(l));
  assert.equal(result.error, 'The command \'/bin/sh -c false\' returned a non-zero code: 1');
  assert.equal(seen.length, 4);
  assert.deepEqual(await readProgress(Readable.from([JSON.stringify({ status: 'ok' })]), () => undefined), {});
});

test('DOCKER_HOST is honoured, and an engine that does not answer is DOCKER_UNAVAILABLE saying how to start one', async () => {
  assert.equal(dockerEndpoint({}), 'unix:///var/run/docker.sock');
  assert.equal(dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.1:2375' }), 'tcp://10.0.0.1:2375');
  const conn = new DockerConnection({ DOCKER_HOST: `unix://${join(dir, 'absent.sock')}` });
  await assert.rejects(conn.get(), (err: unknown) => err instanceof BerthError && err.code === 'DOCKER_UNAVAILABLE'
    && err.message.includes('absent.sock') && /dockerd --containerd=\/run\/containerd\/containerd\.sock/.test(err.fix) && /DOCKER_HOST/.test(err.fix));
  // Not remembered: the next call tries again (dockerd may have been started meanwhile).
  await assert.rejects(conn.get(), /does not answer/);
});

test('berth up takes --registry and --base-image, checking the registry at the edge', () => {
  const s = parseControlSettings({ registry: '127.0.0.1:5000/team', baseImage: 'python:3.11-slim' }, { HOME: dir });
  assert.equal(s.registry, '127.0.0.1:5000/team');
  assert.equal(s.baseImage, 'python:3.11-slim');
  assert.ok(Object.isFrozen(s));
  assert.equal(parseControlSettings({}, { HOME: dir }).registry, undefined);
  assert.throws(() => parseControlSettings({ registry: 'not a registry' }, { HOME: dir }), (err: unknown) => err instanceof BerthError && err.code === 'INVALID_SETTINGS' && /--registry/.test(err.message));
});

test('a build whose step fails inside a 200 answer is IMAGE_BUILD_FAILED naming the step, with its last output lines', async () => {
  const { buildImage } = await import('../../src/images/engine.js');
  const lines = [
    { stream: 'Step 1/3 : FROM berth/runtime:r\n' }, { stream: ' ---> 1a2b\n' },
    { stream: 'Step 2/3 : RUN ["pip","install","x"]\n' }, { stream: ' ---> Running in 3c4d\n' },
    { stream: 'Looking in links: /tmp/berth-wheels\n' }, { stream: 'ERROR: No matching distribution found for x\n' },
    { errorDetail: { message: 'The command \'pip install x\' returned a non-zero code: 1' }, error: 'The command \'pip install x\' returned a non-zero code: 1' },
  ];
  const fake = {
    ping: async () => 'OK',
    buildImage: async () => Readable.from(lines.map((l) => `${JSON.stringify(l)}\n`)),
    getImage: () => ({ inspect: async () => { throw Object.assign(new Error('no such image'), { statusCode: 404 }); } }),
  };
  const conn = new DockerConnection({}, () => fake as never);
  const log = join(dir, 'build.log');
  await assert.rejects(
    buildImage(conn, { tag: 'berth/env:e', dockerfile: 'FROM berth/runtime:r\n', context: [], labels: {}, log, signal: new AbortController().signal }),
    (err: unknown) => err instanceof BerthError && err.code === 'IMAGE_BUILD_FAILED'
      && err.message.startsWith('building image berth/env:e failed at Step 2/3 : RUN ["pip","install","x"]: The command \'pip install x\' returned a non-zero code: 1')
      && err.message.includes('\n  | ERROR: No matching distribution found for x') && !err.message.includes('Step 1/3')
      && err.message.endsWith('the whole build log: berth image logs berth/env:e'),
  );
  const { readFileSync } = await import('node:fs');
  assert.match(readFileSync(log, 'utf8'), /# Dockerfile\nFROM berth\/runtime:r\n[\s\S]*Looking in links[\s\S]*ERROR: The command/);
});
