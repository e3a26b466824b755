// The 503 reason and Retry-After for a service with no ready replica, from what its replicas are doing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedStartupMs, noReadyReplica } from '../../src/control/services/unavailable.js';
import { overloaded, unavailableReply } from '../../src/gateway/unavailability.js';

const overloadedRetryAfterS = (queued: number, perS: number, maxWaitMs: number): number | undefined => overloaded(queued, perS, maxWaitMs).retryAfterS;
import type { ReplicaStatus } from '../../src/targets/types.js';

const NOW = Date.parse('2026-12-07T12:00:00.000Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const later = (ms: number): string => new Date(NOW + ms).toISOString();
const replica = (over: Partial<ReplicaStatus>): ReplicaStatus => ({
  serviceName: 'svc', replicaId: 'svc-1', index: 0, state: 'Starting', restarts: 0, memory: { enforcement: 'none' },
  logs: { current: '', previous: '', init: '', rotated: '' }, ...over,
});
const syntax = { exception: 'SyntaxError', message: 'invalid syntax', file: '/app/score.py', line: 4, kind: 'import' as const };
const valueError = { exception: 'ValueError', message: 'bad init', file: '/app/score.py', line: 6, kind: 'init' as const };

test('starting: Retry-After is the time left of a typical start-up here', () => {
  const u = noReadyReplica([replica({ startedAt: ago(3000), phase: { name: 'init', since: ago(3000) } })], [10_000, 12_000, 11_000], NOW, 'Transitioning');
  assert.equal(u.reason, 'starting');
  assert.equal(u.retryAfterS, 8);
  assert.match(u.detail, /1 replica\(s\) starting \(init\); start-up takes about 11 s here/);
  // Past the typical time: ask again in a second, not never.
  assert.equal(noReadyReplica([replica({ startedAt: ago(60_000) })], [10_000], NOW, 'Healthy').retryAfterS, 1);
  // No history yet: the default guess.
  assert.equal(noReadyReplica([], [], NOW, 'Transitioning').reason, 'starting');
  assert.equal(noReadyReplica([], [], NOW, 'Transitioning').retryAfterS, 5);
});

test('init-failed: the error, and the next restart plus a start-up; none when it will not be restarted', () => {
  const backoff = noReadyReplica([replica({ state: 'CrashLoopBackOff', lastInitError: valueError, nextRestartAt: later(4000) })], [2000], NOW, 'Unhealthy');
  assert.equal(backoff.reason, 'init-failed');
  assert.equal(backoff.retryAfterS, 6);
  assert.match(backoff.detail, /init\(\) failed: ValueError: bad init at \/app\/score\.py:6; retrying/);
  const failed = noReadyReplica([replica({ state: 'Failed', lastInitError: syntax })], [2000], NOW, 'Failed');
  assert.equal(failed.reason, 'init-failed');
  assert.equal(failed.retryAfterS, undefined);
  assert.match(failed.detail, /not restarted/);
  // Starting again after an init() failure is still the init failure, not a fresh start.
  assert.equal(noReadyReplica([replica({ state: 'Starting', lastInitError: valueError, startedAt: ago(500) })], [2000], NOW, 'Unhealthy').reason, 'init-failed');
});

test('no-ready-replica: a crash loop that is not init()\'s, nothing running, or replicas that failed for good', () => {
  const looping = noReadyReplica([replica({ state: 'CrashLoopBackOff', nextRestartAt: later(2000) })], [1000], NOW, 'Unhealthy');
  assert.equal(looping.reason, 'no-ready-replica');
  assert.equal(looping.retryAfterS, 3);
  assert.equal(noReadyReplica([], [1000], NOW, 'Healthy').reason, 'no-ready-replica');
  assert.equal(noReadyReplica([replica({ state: 'Failed' })], [1000], NOW, 'Failed').retryAfterS, undefined);
});

test('overloaded: the queue ahead over the rate replicas finish requests, bounded', () => {
  assert.equal(overloadedRetryAfterS(99, 50, 500), 2);
  assert.equal(overloadedRetryAfterS(0, 1000, 500), 1);
  assert.equal(overloadedRetryAfterS(10, 0, 2500), 3);
  assert.equal(overloadedRetryAfterS(1_000_000, 1, 500), 300);
  assert.equal(expectedStartupMs([5, 1, 3, 100]), 4);
});

test('the 503 reply: a reason header always, Retry-After only when waiting can help, both in the body', () => {
  const failed = unavailableReply({ reason: 'init-failed', detail: 'init() failed: SyntaxError' });
  assert.deepEqual(failed.headers, { 'x-berth-reason': 'init-failed' });
  assert.deepEqual(failed.extra, { reason: 'init-failed', retry_after_s: null, detail: 'init() failed: SyntaxError' });
  const busy = unavailableReply(overloaded(99, 50, 500));
  assert.deepEqual(busy.headers, { 'x-berth-reason': 'overloaded', 'retry-after': '2' });
  assert.match(String(busy.extra.detail), /99 request\(s\) queued; replicas finish about 50 request\(s\)\/s/);
});
