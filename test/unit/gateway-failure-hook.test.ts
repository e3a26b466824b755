// The gateway's failure hook: every scoring request answered 5xx, as the client saw it (a replica's 500 is 502), with the replica, body and query; nothing else.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApiServer } from '../../src/control/api/server.js';
import { CHANNEL_PATH } from '../../src/inference/channel/frames.js';
import { TokenAuthority } from '../../src/gateway/auth.js';
import { Gateway, type ServiceRouting } from '../../src/gateway/gateway.js';
import type { FailedRequest } from '../../src/gateway/failure-hook.js';
import { scoreRoutes } from '../../src/gateway/score-routes.js';
import { systemClock } from '../../src/core/clock.js';

const servers: Server[] = [];
async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
after(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

test('5xx replies reach the hook with status, replica, request id, headers, body and query; 2xx and 4xx do not', async () => {
  // A fake replica (HTTP, no scoring channel): the body's "status" is the status it answers.
  const replica = await listen(createServer((req, res) => {
    if (req.url === CHANNEL_PATH) return void res.writeHead(404).end();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = (JSON.parse(body) as { status: number }).status;
      const text = JSON.stringify({ message: `answered ${status}` });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }).end(text);
    });
  }));
  const seen: FailedRequest[] = [];
  const routing: ServiceRouting = { auth: 'key', primaryKey: 'p-key', secondaryKey: 's-key', maxConcurrent: 1, maxWaitMs: 500, scoringTimeoutMs: 60_000, state: () => 'Healthy', endpoints: [{ replicaId: 'svc-1-0-aaa', url: replica }] };
  const empty: ServiceRouting = { ...routing, endpoints: [] };
  const gateway = new Gateway({ routing: (n) => (n === 'svc' ? routing : n === 'idle' ? empty : undefined), clock: systemClock, tokens: new TokenAuthority(Buffer.alloc(32, 7), systemClock), onFailure: (f) => seen.push(f) });
  after(() => gateway.close());
  const url = await listen(createApiServer(scoreRoutes(gateway), { logger: pino({ level: 'silent' }) }));
  const post = (service: string, status: number, headers: Record<string, string> = {}) => fetch(`${url}/api/v1/service/${service}/score?v=2`, {
    method: 'POST', body: JSON.stringify({ status }), headers: { authorization: 'Bearer p-key', 'x-request-id': `req-${status}`, 'x-tenant': 'acme', ...headers },
  });
  assert.equal((await post('svc', 200)).status, 200);
  assert.equal((await post('svc', 400)).status, 400);
  assert.equal((await post('svc', 200, { authorization: 'Bearer wrong' })).status, 401);
  assert.equal((await post('svc', 500)).status, 502);
  assert.equal((await post('svc', 503)).status, 503);
  assert.equal((await post('idle', 200, { 'x-request-id': 'no-replica' })).status, 503);
  assert.deepEqual(seen.map((f) => [f.requestId, f.status, f.replica]), [['req-500', 502, 'svc-1-0-aaa'], ['req-503', 503, 'svc-1-0-aaa'], ['no-replica', 503, undefined]]);
  const [first] = seen;
  assert.equal(first?.service, 'svc');
  assert.equal(first.method, 'POST');
  assert.equal(first.path, '/score?v=2');
  assert.equal(first.headers['x-tenant'], 'acme');
  assert.equal(first.body?.toString(), '{"status":500}');
  assert.match(first.response?.toString() ?? '', /answered 500/);
  assert.match(seen[2]?.response?.toString() ?? '', /NO_READY_REPLICA/);
});
