// Scoring through the gateway reaches a real replica over its scoring channel with what the script would see over HTTP: headers, query, raw requests, custom responses.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane } from '../helpers/services.js';

after(cleanup);

test('over the channel: request_headers and @rawhttp scripts get the headers, query and body; a custom status and header come back', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const src = ['--source-dir', fixture('.'), '--replicas', '1'];
  await plane.ok(['deploy', '--name', 'echoer', ...src, '--entry-script', 'echo_headers_score.py']);
  await plane.ok(['deploy', '--name', 'rawer', ...src, '--entry-script', 'rawhttp_score.py', '--no-auth']);
  const echoer = await plane.show('echoer');

  const res = await fetch(echoer.scoring_uri, {
    method: 'POST', body: '{"a": 1}',
    headers: { authorization: `Bearer ${echoer.keys.primary}`, 'x-request-id': 'req-echo', 'X-Echo': 'hello', 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-request-id'), 'req-echo');
  const echoed = (await res.json()) as { headers: Record<string, string>; body: string };
  assert.equal(echoed.body, '{"a": 1}');
  assert.equal(echoed.headers['x-echo'], 'hello');
  assert.equal(echoed.headers['x-request-id'], 'req-echo');
  assert.equal(echoed.headers['content-type'], 'application/json');
  assert.equal(echoed.headers['content-length'], '8');
  assert.equal(echoed.headers.authorization, undefined, 'the key stays with the gateway');
  const bodyBytes = Number(res.headers.get('content-length'));

  const rawUri = (await plane.show('rawer')).scoring_uri;
  const posted = await fetch(`${rawUri}?a=1&m=x&m=y`, { method: 'POST', body: '{"k": [1, 2]}', headers: { 'content-type': 'application/json' } });
  assert.equal(posted.status, 201);
  assert.equal(posted.headers.get('x-berth-test'), 'raw');
  const info = (await posted.json()) as Record<string, unknown>;
  assert.deepEqual([info.method, info.path, info.args, info.multi, info.content_type, info.length, info.json],
    ['POST', '/score', { a: '1', m: 'x' }, ['x', 'y'], 'application/json', 13, { k: [1, 2] }]);
  const got = await fetch(`${rawUri}?a=2`);
  assert.equal(got.status, 200);
  assert.deepEqual(((await got.json()) as Record<string, unknown>).args, { a: '2' });

  // The gateway's access line for the request: its status, size and id.
  const line = readFileSync(join(plane.home, 'logs', 'control-plane.log'), 'utf8').split('\n').find((l) => l.includes('"request_id":"req-echo"') && l.includes('"msg":"request"'));
  assert.ok(line !== undefined, 'an access line for req-echo');
  const access = JSON.parse(line) as { method: string; status: number; bytes: number; duration_ms: number };
  assert.deepEqual([access.method, access.status, access.bytes], ['POST', 200, bodyBytes]);
  assert.ok(bodyBytes > 0 && access.duration_ms > 0);

  const metrics = await (await fetch(`${plane.url}/metrics`)).text();
  assert.match(metrics, /berth_gateway_upstream_attempts_total\{transport="channel"\} 3/);
  assert.match(metrics, /berth_gateway_upstream_attempts_total\{transport="http"\} 0/);
});
