// The gateway's Prometheus series: per service and status, and gone with a deleted service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayMetrics } from '../../src/gateway/metrics.js';

test('requests are counted by service and status; 503s and 504s also on their own counters', async () => {
  const metrics = new GatewayMetrics(() => []);
  metrics.observe('alpha', 200, 0.002, 0);
  metrics.observe('alpha', 200, 0.003, 0);
  metrics.observe('alpha', 503, 0.5, undefined);
  metrics.observe('beta', 504, 61, 0.001);
  const text = await metrics.text();
  assert.match(text, /berth_gateway_requests_total\{service="alpha",code="200"\} 2\n/);
  assert.match(text, /berth_gateway_requests_total\{service="alpha",code="503"\} 1\n/);
  assert.match(text, /berth_gateway_overloaded_total\{service="alpha"\} 1\n/);
  assert.match(text, /berth_gateway_timeouts_total\{service="beta"\} 1\n/);
  assert.match(text, /berth_gateway_request_duration_seconds_bucket\{le="0.005",service="alpha"\} 2\n/);
  assert.match(text, /berth_gateway_request_duration_seconds_count\{service="alpha"\} 3\n/);
  assert.match(text, /berth_gateway_queue_wait_seconds_count\{service="alpha"\} 2\n/);
  assert.match(text, /berth_gateway_request_duration_seconds_bucket\{le="\+Inf",service="beta"\} 1\n/);
});

test('a deleted service leaves no series behind; the others stay', async () => {
  const metrics = new GatewayMetrics(() => []);
  metrics.observe('alpha', 200, 0.002, 0);
  metrics.observe('beta', 200, 0.002, 0);
  metrics.forget('alpha');
  const text = await metrics.text();
  assert.doesNotMatch(text, /service="alpha"/);
  assert.match(text, /berth_gateway_requests_total\{service="beta",code="200"\} 1\n/);
  metrics.observe('alpha', 200, 0.002, 0);
  assert.match(await metrics.text(), /berth_gateway_requests_total\{service="alpha",code="200"\} 1\n/);
});
