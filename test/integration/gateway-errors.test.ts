// The gateway's answers on real replicas: run() raising is 502, a slow run() 504, a busy replica past the wait 503 with Retry-After; metrics and show count them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { gate } from '../helpers/gate.js';
import { fixture, startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

test('502 from run() raising, 504 from a slow run(), 503 past max_request_wait_time; /metrics and service show count them', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const src = ['--source-dir', fixture('.'), '--no-auth', '--replicas', '1'];
  await plane.ok(['deploy', '--name', 'raiser', ...src, '--entry-script', 'run_fails.py']);
  // The scoring timeout leaves a request held by the test (below) seconds to spare, however slow the machine.
  await plane.ok(['deploy', '--name', 'sleeper', ...src, '--entry-script', 'sleep_score.py', '--scoring-timeout-ms', '5000', '--max-concurrent-requests', '1', '--max-request-wait-ms', '300']);
  const uri = (name: string): string => `${plane.url}/api/v1/service/${name}/score`;
  const post = (name: string, body: string, id: string) => fetch(uri(name), { method: 'POST', body, headers: { 'x-request-id': id } });

  const raised = await post('raiser', '{}', 'req-raise');
  assert.equal(raised.status, 502);
  assert.equal(raised.headers.get('x-request-id'), 'req-raise');
  const raisedBody = (await raised.json()) as { code: string; message: string; request_id: string };
  assert.deepEqual([raisedBody.code, raisedBody.request_id], ['RUN_FAILED', 'req-raise']);
  assert.match(raisedBody.message, /run\(\) raised in the entry script/);

  // A run() that never finishes (its gate is never released) can only end in the timeout.
  const slow = await post('sleeper', JSON.stringify({ until_file: gate().path }), 'req-slow');
  assert.equal(slow.status, 504);
  const slowBody = (await slow.json()) as { code: string; request_id: string };
  assert.deepEqual([slowBody.code, slowBody.request_id], ['SCORING_TIMEOUT', 'req-slow']);

  // One replica, one request at a time: while it is held past the wait, the next request gets 503 with Retry-After.
  // The timed-out worker is recycled inside the replica; wait until it is ready again, asking the replica itself (a
  // probe through the gateway would be answered 503 while the worker restarts, and counted).
  const replicaUrl = (await plane.show('sleeper')).replicas[0]?.url;
  assert.ok(replicaUrl !== undefined, 'the replica has an address');
  await until(async () => ((await fetch(`${replicaUrl}/ready`)).status === 200 ? true : undefined), 20_000, 'the recycled worker is back');
  const held = gate();
  const busy = post('sleeper', JSON.stringify({ until_file: held.path }), 'req-busy');
  await until(() => (fetch(`${plane.url}/metrics`).then((r) => r.text()).then((m) => (/berth_gateway_in_flight\{service="sleeper"\} 1/.test(m) ? true : undefined))), 5000, 'the first request in flight');
  const started = performance.now();
  const turnedAway = await post('sleeper', '{"seconds": 0}', 'req-503');
  const waitedMs = performance.now() - started;
  assert.equal(turnedAway.status, 503);
  assert.ok(waitedMs >= 250, `it waited max_request_wait_time first (${waitedMs.toFixed(0)} ms)`);
  const overloaded = (await turnedAway.json()) as { code: string; message: string; request_id: string; reason: string; retry_after_s: number; detail: string };
  assert.deepEqual([overloaded.code, overloaded.request_id, overloaded.reason], ['SERVICE_OVERLOADED', 'req-503', 'overloaded']);
  assert.equal(turnedAway.headers.get('x-berth-reason'), 'overloaded');
  // Retry-After comes from the queue's drain rate (here: few requests finished lately, so a wait of seconds).
  assert.match(turnedAway.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  assert.equal(Number(turnedAway.headers.get('retry-after')), overloaded.retry_after_s);
  assert.match(overloaded.detail, /^0 request\(s\) queued; (replicas finish about [\d.]+ request\(s\)\/s|no request finished recently)$/);
  assert.match(overloaded.message, /service sleeper is overloaded: no replica slot became free within 300 ms \(1 ready replica\(s\), 1 request\(s\) at once each\)/);
  held.release();
  assert.equal((await busy).status, 200);
  // A request that waits less than the limit is served.
  const [a, b] = await Promise.all([post('sleeper', '{"seconds": 0.1}', 'q1'), post('sleeper', '{"seconds": 0.1}', 'q2')]);
  assert.deepEqual([a.status, b.status], [200, 200]);

  const metrics = await (await fetch(`${plane.url}/metrics`)).text();
  assert.match(metrics, /berth_gateway_requests_total\{service="raiser",code="502"\} 1/);
  assert.match(metrics, /berth_gateway_requests_total\{service="sleeper",code="504"\} 1/);
  assert.match(metrics, /berth_gateway_requests_total\{service="sleeper",code="503"\} 1/);
  assert.match(metrics, /berth_gateway_overloaded_total\{service="sleeper"\} 1/);
  assert.match(metrics, /berth_gateway_timeouts_total\{service="sleeper"\} 1/);
  assert.match(metrics, /berth_gateway_request_duration_seconds_bucket\{le="0.5",service="sleeper"\} \d+/);
  assert.match(metrics, /berth_gateway_queue_wait_seconds_count\{service="sleeper"\} [1-9]/);
  assert.match(metrics, /berth_service_replicas_desired\{service="sleeper"\} 1/);
  assert.match(metrics, /berth_service_replicas_ready\{service="sleeper"\} 1/);
  assert.match(metrics, /berth_service_utilization_ratio\{service="sleeper"\} [\d.]+/);
  // Every one of these went to its replica over the scoring channel, none over HTTP.
  assert.match(metrics, /berth_gateway_upstream_attempts_total\{transport="channel"\} [1-9]/);
  assert.match(metrics, /berth_gateway_upstream_attempts_total\{transport="http"\} 0/);

  const show = await plane.show('sleeper');
  assert.ok(show.traffic.requests >= 5);
  assert.ok(show.traffic.request_rate > 0);
  assert.ok(show.traffic.latency_p50_ms !== null && show.traffic.latency_p99_ms! >= show.traffic.latency_p50_ms);
  const text = await plane.ok(['service', 'show', 'sleeper']);
  assert.match(text, /traffic: +[\d.]+ req\/s over the last \d+ s, p50 [\d.]+ ms, p99 [\d.]+ ms; utilization [\d.]+%; 0 in flight, 0 queued/);
  assert.match(text, /replicas: +1 ready \/ 1 desired; 1 fixed/);
});
