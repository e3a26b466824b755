// The gateway against fake replicas (plain node:http servers): auth, error mapping, the bounded wait, refused connections retried, deaths mid-request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApiServer } from '../../src/control/api/server.js';
import { CHANNEL_PATH } from '../../src/inference/channel/frames.js';
import { TokenAuthority } from '../../src/gateway/auth.js';
import { Gateway, type ServiceRouting } from '../../src/gateway/gateway.js';
import { GatewayMetrics } from '../../src/gateway/metrics.js';
import { metricsRoutes, scoreRoutes } from '../../src/gateway/score-routes.js';
import { systemClock } from '../../src/core/clock.js';
import { fakeClock } from '../helpers/fake-clock.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A fake replica without a scoring channel (so the gateway falls back to HTTP): reads the body, then lets `handle` answer. */
function replica(handle: Handler): Promise<string> {
  return listen(createServer((req, res) => {
    if (req.url === CHANNEL_PATH) return void res.writeHead(404).end();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handle(req, res, body));
  }));
}

const json = (res: ServerResponse, status: number, value: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};

/** A URL nothing listens on: a server that was started and closed again. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  const url = await listen(s);
  await new Promise((r) => s.close(r));
  return url;
}

interface Front {
  readonly url: string;
  readonly gateway: Gateway;
  readonly routing: Map<string, ServiceRouting>;
  readonly tokens: TokenAuthority;
  readonly clock: ReturnType<typeof fakeClock>;
}

async function front(services: Record<string, Partial<ServiceRouting> & { endpoints: ServiceRouting['endpoints'] }>): Promise<Front> {
  const clock = fakeClock(Date.now());
  const tokens = new TokenAuthority(Buffer.alloc(32, 7), clock);
  const routing = new Map<string, ServiceRouting>();
  for (const [name, r] of Object.entries(services)) {
    routing.set(name, { auth: 'none', primaryKey: 'p-key', secondaryKey: 's-key', maxConcurrent: 1, maxWaitMs: 500, scoringTimeoutMs: 60_000, state: () => 'Healthy', ...r });
  }
  const metrics = new GatewayMetrics(() => []);
  const gateway = new Gateway({ routing: (name) => routing.get(name), clock: systemClock, tokens, metrics });
  const api = createApiServer([...scoreRoutes(gateway), ...metricsRoutes(metrics)], { logger: pino({ level: 'silent' }) });
  const url = await listen(api);
  after(() => gateway.close());
  return { url, gateway, routing, tokens, clock };
}

after(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const post = (url: string, body: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', body, headers });

test('key auth: primary and secondary pass, missing or wrong get 401 with a JSON body; the key never reaches the replica', async () => {
  const seen: Array<string | undefined> = [];
  const r = await replica((req, res, body) => { seen.push(req.headers.authorization); json(res, 200, { echo: body }); });
  const f = await front({ svc: { auth: 'key', endpoints: [{ replicaId: 'r1', url: r }] } });
  const uri = `${f.url}/api/v1/service/svc/score`;
  for (const key of ['p-key', 's-key']) {
    const ok = await post(uri, '{"a":1}', { authorization: `Bearer ${key}` });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { echo: '{"a":1}' });
    assert.ok(ok.headers.get('x-request-id'));
  }
  assert.deepEqual(seen, [undefined, undefined]);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /no Authorization header; send Authorization: Bearer <credential> with a key \(berth service keys svc\)/],
    [{ authorization: 'Basic abc' }, /not of the form "Bearer <credential>"/],
    [{ authorization: 'Bearer wrong' }, /unauthorized request to service svc: invalid key/],
    [{ authorization: 'Bearer p-key-but-longer' }, /invalid key/],
  ];
  for (const [headers, message] of cases) {
    const res = await post(uri, '{}', { ...headers, 'x-request-id': 'auth-1' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-request-id'), 'auth-1');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
    const body = (await res.json()) as { code: string; message: string; request_id: string };
    assert.equal(body.code, 'SCORING_UNAUTHORIZED');
    assert.equal(body.request_id, 'auth-1');
    assert.match(body.message, message);
  }
  assert.equal(seen.length, 2, 'no unauthorized request reached the replica');
  // A regenerated key: the gateway re-reads the service and the old key stops working.
  f.routing.set('svc', { ...f.routing.get('svc')!, primaryKey: 'new-key' });
  f.gateway.sync('svc');
  assert.equal((await post(uri, '{}', { authorization: 'Bearer p-key' })).status, 401);
  assert.equal((await post(uri, '{}', { authorization: 'Bearer new-key' })).status, 200);
  // swagger.json needs no credential.
  assert.equal((await fetch(`${f.url}/api/v1/service/svc/swagger.json`)).status, 200);
});

test('token auth: a valid token passes; expired, wrong signature, another service\'s token get 401 saying which', async () => {
  const r = await replica((_req, res) => json(res, 200, { ok: true }));
  const f = await front({ tok: { auth: 'token', endpoints: [{ replicaId: 'r1', url: r }] }, other: { auth: 'token', endpoints: [{ replicaId: 'r1', url: r }] } });
  const uri = `${f.url}/api/v1/service/tok/score`;
  const token = await f.tokens.mint('tok', 60);
  assert.equal((await post(uri, '{}', { authorization: `Bearer ${token.access_token}` })).status, 200);
  const forger = new TokenAuthority(Buffer.alloc(32, 9), f.clock);
  const forged = await forger.mint('tok', 60);
  const foreign = await f.tokens.mint('other', 60);
  const expect401 = async (credential: string, message: RegExp): Promise<void> => {
    const res = await post(uri, '{}', { authorization: `Bearer ${credential}` });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { message: string }).message, message);
  };
  await expect401(forged.access_token, /invalid token \(signature verification failed\)/);
  await expect401(foreign.access_token, /the token was issued for another service/);
  await expect401('not.a.jwt', /invalid token/);
  await expect401('', /Bearer <credential>/);
  await f.clock.advance(61_000);
  await expect401(token.access_token, new RegExp(`the token expired at ${token.expires_on.replace(/[.]/g, '\\.')}; get a new one with: berth service token tok`));
});

test('mapping: the replica\'s 500 is 502 with its body, its 504 stays 504, and the gateway times out on its own', async () => {
  const r = await replica((req, res, body) => {
    if (body === 'raise') return json(res, 500, { code: 'RUN_FAILED', message: 'run() raised', request_id: req.headers['x-request-id'] });
    if (body === 'slow') return json(res, 504, { code: 'SCORING_TIMEOUT', message: 'scoring timeout' });
    if (body === 'hang') return; // never answers
    json(res, 200, { ok: true });
  });
  const f = await front({ svc: { endpoints: [{ replicaId: 'r1', url: r }], maxConcurrent: 4, scoringTimeoutMs: 50 } });
  const uri = `${f.url}/api/v1/service/svc/score`;
  const raised = await post(uri, 'raise', { 'x-request-id': 'req-500' });
  assert.equal(raised.status, 502);
  assert.deepEqual(await raised.json(), { code: 'RUN_FAILED', message: 'run() raised', request_id: 'req-500' });
  assert.equal((await post(uri, 'slow')).status, 504);
  const hung = await post(uri, 'hang', { 'x-request-id': 'req-hang' });
  assert.equal(hung.status, 504);
  assert.deepEqual(await hung.json().then((b) => { const { code, request_id } = b as { code: string; request_id: string }; return { code, request_id }; }), { code: 'SCORING_TIMEOUT', request_id: 'req-hang' });
  const text = await (await fetch(`${f.url}/metrics`)).text();
  assert.match(text, /berth_gateway_requests_total\{service="svc",code="502"\} 1/);
  assert.match(text, /berth_gateway_timeouts_total\{service="svc"\} 2/);
});

test('a replica that refuses the connection is skipped: the request goes to another one; with none left, 503', async () => {
  const r = await replica((_req, res) => json(res, 200, { ok: true }));
  const dead = await deadUrl();
  const f = await front({ svc: { endpoints: [{ replicaId: 'dead', url: dead }, { replicaId: 'live', url: r }], maxConcurrent: 10 } });
  const results = await Promise.all(Array.from({ length: 10 }, () => post(`${f.url}/api/v1/service/svc/score`, '{}').then((res) => res.status)));
  assert.deepEqual(results, Array(10).fill(200));
  assert.equal(f.gateway.snapshot('svc')?.ready, 1, 'the refusing replica left routing');
  const g = await front({ lone: { endpoints: [{ replicaId: 'dead', url: dead }] } });
  const res = await post(`${g.url}/api/v1/service/lone/score`, '{}');
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { code: string }).code, 'NO_READY_REPLICA');
  assert.equal(res.headers.get('retry-after'), '1');
});

test('a replica that dies mid-request is a 502 for that request only', async () => {
  const r = await replica((req, res, body) => (body === 'die' ? req.socket.destroy() : json(res, 200, { ok: true })));
  const f = await front({ svc: { endpoints: [{ replicaId: 'r1', url: r }], maxConcurrent: 2 } });
  const died = await post(`${f.url}/api/v1/service/svc/score`, 'die', { 'x-request-id': 'req-died' });
  assert.equal(died.status, 502);
  const body = (await died.json()) as { code: string; request_id: string; message: string };
  assert.equal(body.code, 'REPLICA_REQUEST_FAILED');
  assert.equal(body.request_id, 'req-died');
  assert.match(body.message, /the request to replica r1 of service svc failed/);
  assert.equal((await post(`${f.url}/api/v1/service/svc/score`, 'fine')).status, 200);
});

test('one replica with max 1 concurrent: a second request waits, a third past the wait gets 503 with Retry-After', async () => {
  const release: Array<() => void> = [];
  const r = await replica((_req, res, body) => {
    if (body === 'hold') release.push(() => json(res, 200, { held: true }));
    else json(res, 200, { quick: true });
  });
  const f = await front({ svc: { endpoints: [{ replicaId: 'r1', url: r }], maxConcurrent: 1, maxWaitMs: 300 } });
  const uri = `${f.url}/api/v1/service/svc/score`;
  const held = post(uri, 'hold');
  while (release.length === 0) await new Promise((r2) => setTimeout(r2, 5));
  const waiting = post(uri, 'quick');
  const started = Date.now();
  const rejected = await post(uri, 'quick');
  assert.equal(rejected.status, 503);
  assert.ok(Date.now() - started >= 250, 'it waited about max_request_wait_time first');
  assert.equal(rejected.headers.get('retry-after'), '1');
  assert.equal(((await rejected.json()) as { code: string }).code, 'SERVICE_OVERLOADED');
  assert.equal((await waiting).status, 503, 'the one before it waited as long');
  release.shift()!();
  assert.equal((await held).status, 200);
  // Freed: a request that waits briefly gets the slot.
  const again = post(uri, 'hold');
  while (release.length === 0) await new Promise((r2) => setTimeout(r2, 5));
  const queued = post(uri, 'quick');
  await new Promise((r2) => setTimeout(r2, 50));
  release.shift()!();
  assert.equal((await again).status, 200);
  assert.equal((await queued).status, 200);
});

test('a body over 1 MiB reaches the replica whole, a large reply streams back; an unknown service is 404', async () => {
  const r = await replica((_req, res, body) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(body.repeat(2));
  });
  const f = await front({ svc: { endpoints: [{ replicaId: 'r1', url: r }] } });
  const big = 'x'.repeat(1_500_000);
  const res = await post(`${f.url}/api/v1/service/svc/score`, big);
  assert.equal(res.status, 200);
  assert.equal((await res.text()).length, 3_000_000);
  assert.equal((await post(`${f.url}/api/v1/service/nobody/score`, '{}')).status, 404);
});
