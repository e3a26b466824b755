// The gateway's routing set on a fake clock: least in flight within the per-replica limit, a FIFO wait bounded in time, drains, and the load integral.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/errors/catalogue.js';
import { ReplicaPool, type Lease } from '../../src/gateway/pool.js';
import { fakeClock } from '../helpers/fake-clock.js';

const ep = (id: string) => ({ replicaId: id, url: `http://127.0.0.1/${id}` });
const sync = (got: Lease | Promise<Lease>): Lease => {
  assert.ok(!(got instanceof Promise), 'a free slot is granted at once');
  return got;
};

test('each request goes to the replica with the fewest in flight; ties rotate; never above the per-replica limit', () => {
  const pool = new ReplicaPool('svc', { maxConcurrent: 2, maxWaitMs: 500 }, fakeClock());
  pool.setMembers([ep('a'), ep('b'), ep('c')]);
  const first = [sync(pool.acquire()), sync(pool.acquire()), sync(pool.acquire())];
  assert.deepEqual(first.map((l) => l.member.replicaId).sort(), ['a', 'b', 'c'], 'idle replicas share the first three');
  const fourth = sync(pool.acquire());
  assert.equal(fourth.member.inFlight, 2);
  // Another replica drops to 0 in flight: it gets the next request, whatever the rotation says.
  const other = first.find((l) => l.member !== fourth.member)!;
  pool.release(other);
  assert.equal(sync(pool.acquire()).member, other.member);
  const more = [sync(pool.acquire()), sync(pool.acquire())].map((l) => l.member.inFlight);
  assert.deepEqual(more, [2, 2]);
  assert.ok(pool.acquire() instanceof Promise, 'all at the limit: the next one waits');
  assert.deepEqual(pool.snapshot(), { ready: 3, inFlight: 6, queued: 1, oldestWaitMs: 0 });
});

test('waiters are served first in, first out as slots free, and report how long they waited', async () => {
  const clock = fakeClock();
  const pool = new ReplicaPool('svc', { maxConcurrent: 1, maxWaitMs: 500 }, clock);
  pool.setMembers([ep('a')]);
  const held = sync(pool.acquire());
  const order: string[] = [];
  const waiters = ['w1', 'w2', 'w3'].map((name) => (pool.acquire() as Promise<Lease>).then((l) => { order.push(name); return l; }));
  await clock.advance(100);
  pool.release(held);
  const w1 = await waiters[0]!;
  assert.equal(w1.waitedMs, 100);
  await clock.advance(50);
  pool.release(w1);
  const w2 = await waiters[1]!;
  pool.release(w2);
  pool.release(await waiters[2]!);
  assert.deepEqual(order, ['w1', 'w2', 'w3']);
  assert.equal(pool.snapshot().inFlight, 0);
});

test('a waiter gets SERVICE_OVERLOADED after max_request_wait_time, with one timer for the whole queue', async () => {
  const clock = fakeClock();
  const pool = new ReplicaPool('svc', { maxConcurrent: 1, maxWaitMs: 500 }, clock);
  pool.setMembers([ep('a')]);
  sync(pool.acquire());
  const results: string[] = [];
  const errors: BerthError[] = [];
  const track = (p: Lease | Promise<Lease>, name: string) => (p as Promise<Lease>).then(() => results.push(`${name} ok`), (e: BerthError) => { errors.push(e); results.push(`${name} ${e.code}`); });
  const a = track(pool.acquire(), 'a');
  await clock.advance(200);
  const b = track(pool.acquire(), 'b');
  assert.equal(clock.pending(), 1, 'one timer, for the oldest waiter');
  await clock.advance(300);
  await a;
  assert.deepEqual(results, ['a SERVICE_OVERLOADED']);
  assert.equal(clock.pending(), 1, 're-armed for the next waiter');
  await clock.advance(199);
  assert.equal(results.length, 1);
  await clock.advance(1);
  await b;
  assert.deepEqual(results, ['a SERVICE_OVERLOADED', 'b SERVICE_OVERLOADED']);
  assert.equal(clock.pending(), 0);
  assert.equal(errors[0]!.status, 503);
  assert.match(errors[0]!.message, /service svc is overloaded: no replica slot became free within 500 ms \(1 ready replica\(s\), 1 request\(s\) at once each\)/);
});

test('no ready replica is a 503 at once; a replica that becomes ready takes the queue; a restarted one is a new member', async () => {
  const clock = fakeClock();
  const pool = new ReplicaPool('svc', { maxConcurrent: 1, maxWaitMs: 500 }, clock, { state: () => 'Transitioning' });
  assert.throws(() => pool.acquire(), /service svc has no ready replica \(state Transitioning\)/);
  pool.setMembers([ep('a')]);
  sync(pool.acquire());
  const queued = pool.acquire() as Promise<Lease>;
  pool.setMembers([ep('a'), ep('b')]);
  assert.equal((await queued).member.replicaId, 'b', 'the new replica takes the waiting request');
  // A replica whose URL changed restarted on a new port: it is a new member with nothing in flight.
  pool.setMembers([ep('a'), { replicaId: 'b', url: 'http://127.0.0.1/b-restarted' }]);
  assert.equal(sync(pool.acquire()).member.url, 'http://127.0.0.1/b-restarted');
});

test('drain: the replica leaves routing at once, and the drain ends when its in-flight requests do', async () => {
  const clock = fakeClock();
  const left: string[] = [];
  const pool = new ReplicaPool('svc', { maxConcurrent: 2, maxWaitMs: 500 }, clock, { onLeave: (m) => left.push(m.replicaId) });
  pool.setMembers([ep('a'), ep('b')]);
  const leases = [sync(pool.acquire()), sync(pool.acquire())];
  const onA = leases.find((l) => l.member.replicaId === 'a')!;
  let drained = false;
  const drain = pool.drain(['a'], 30_000).then(() => { drained = true; });
  // Nothing new reaches a: both following requests go to b.
  assert.deepEqual([sync(pool.acquire()).member.replicaId], ['b']);
  const waiting = pool.acquire();
  assert.ok(waiting instanceof Promise, 'b is full and a takes nothing: the request waits');
  const expired = waiting.catch((e: BerthError) => e.code);
  await clock.advance(1000);
  assert.equal(await expired, 'SERVICE_OVERLOADED');
  assert.equal(drained, false, 'a still has a request in flight');
  assert.deepEqual(left, []);
  pool.release(onA);
  await drain;
  assert.deepEqual(left, ['a'], 'its connections may close now');
});

test('a drain bounded in time ends even when a request never finishes', async () => {
  const clock = fakeClock();
  const pool = new ReplicaPool('svc', { maxConcurrent: 1, maxWaitMs: 500 }, clock);
  pool.setMembers([ep('a')]);
  sync(pool.acquire());
  let drained = false;
  const drain = pool.drain(['a'], 5000).then(() => { drained = true; });
  await clock.advance(4999);
  assert.equal(drained, false);
  await clock.advance(1);
  await drain;
  assert.equal(drained, true);
});

test('the load sample is the time-weighted mean of requests in flight since the previous one', async () => {
  const clock = fakeClock();
  const pool = new ReplicaPool('svc', { maxConcurrent: 1, maxWaitMs: 500 }, clock);
  pool.setMembers([ep('a'), ep('b')]);
  pool.sample();
  const one = sync(pool.acquire());
  await clock.advance(500);
  const two = sync(pool.acquire());
  await clock.advance(250);
  pool.release(one);
  pool.release(two);
  await clock.advance(250);
  const s = pool.sample();
  // 1 for 500 ms, 2 for 250 ms, 0 for 250 ms over 1000 ms.
  assert.equal(s.meanInFlight, 1);
  assert.equal(s.ready, 2);
  assert.equal(s.inFlight, 0);
  await clock.advance(1000);
  assert.equal(pool.sample().meanInFlight, 0, 'the integral restarts at each sample');
});
