// The routing set's send-ahead on a fake clock: places ahead only once every replica is full and only on replicas that
// take them, as many as a replica's service time says, requeue at the arrival place, recall for an idle replica or a
// drain, and the 503 of a request that expired in a replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicaPool, type Lease, type PoolHooks } from '../../src/gateway/pool.js';
import { aheadDepth, MAX_AHEAD } from '../../src/gateway/send-ahead.js';
import { fakeClock } from '../helpers/fake-clock.js';

const ep = (id: string) => ({ replicaId: id, url: `http://127.0.0.1/${id}` });
const sync = (got: Lease | Promise<Lease>): Lease => {
  assert.ok(!(got instanceof Promise), 'granted at once');
  return got;
};
const where = (l: Lease): string => `${l.member.replicaId}${l.aheadBudgetMs === undefined ? '' : '+'}`;
/** A lease as the gateway hands it to a channel: sent, with a recall that records the request asked back. */
const sent = (l: Lease, recalled: string[], name: string): Lease => {
  l.recall = () => recalled.push(name);
  return l;
};

function pool(hooks: PoolHooks = {}, maxConcurrent = 1, maxWaitMs = 500) {
  const clock = fakeClock();
  let precise = 0;
  const p = new ReplicaPool('svc', { maxConcurrent, maxWaitMs }, clock, { sendsAhead: () => true, precise: () => precise, ...hooks });
  return { p, clock, tick: (ms: number) => { precise += ms; } };
}

test('depth: at least one ahead, more for short requests, at most MAX_AHEAD; per slot of max concurrent', () => {
  assert.equal(aheadDepth(undefined, 1), 1);
  assert.equal(aheadDepth(50, 1), 1);
  assert.equal(aheadDepth(0.25, 1), 4);
  assert.equal(aheadDepth(0.001, 1), MAX_AHEAD);
  assert.equal(aheadDepth(0.5, 2), 4);
});

test('a request goes ahead only once every replica is full, to one that takes send-ahead, with what is left of its wait', async () => {
  const { p, clock } = pool({ sendsAhead: (m) => m.replicaId === 'a' });
  p.setMembers([ep('a'), ep('b')]);
  const first = [sync(p.acquire()), sync(p.acquire())];
  assert.deepEqual(first.map(where).sort(), ['a', 'b'], 'free slots first, nothing ahead');
  const ahead = sync(p.acquire());
  assert.equal(where(ahead), 'a+');
  assert.equal(ahead.aheadBudgetMs, 500);
  const waiting = p.acquire();
  assert.ok(waiting instanceof Promise, 'a holds one ahead (no service time yet), b takes none: the queue');
  await clock.advance(200);
  p.started(ahead);
  assert.equal(ahead.waitedMs, 200, 'it waited in the replica until it started');
  p.release(first.find((l) => l.member.replicaId === 'a')!);
  const next = await waiting;
  assert.equal(where(next), 'a+', 'a frees a place ahead');
  assert.equal(next.aheadBudgetMs, 300, 'with what is left of its 500 ms');
  assert.deepEqual(p.snapshot(), { ready: 2, inFlight: 3, queued: 0, oldestWaitMs: 200 }, 'the one ahead on a still waits');
});

test('a fast replica is sent more ahead, as its service time says', () => {
  const { p, tick } = pool();
  p.setMembers([ep('a')]);
  for (let i = 0; i < 20; i++) {
    const l = sync(p.acquire());
    tick(0.01);
    p.release(l);
  }
  const held = [sync(p.acquire())];
  for (let i = 0; i < MAX_AHEAD; i++) held.push(sync(p.acquire()));
  assert.deepEqual(held.map(where), ['a', ...Array<string>(MAX_AHEAD).fill('a+')]);
  assert.ok(p.acquire() instanceof Promise, 'at most MAX_AHEAD ahead');
});

test('requests given back unstarted return to the queue at their arrival place, before later ones, keeping their deadline', async () => {
  const { p, clock } = pool({}, 1, 1000);
  p.setMembers([ep('a')]);
  const running = sync(p.acquire());
  const ahead = sync(p.acquire());
  await clock.advance(100);
  const later = (p.acquire() as Promise<Lease>).then((l) => { order.push('later'); return l; });
  const order: string[] = [];
  // The replica died: the one ahead never started (given back from the connection's own close event), the running
  // one failed (released once its caller has heard).
  const back = p.requeue(ahead).then((l) => { order.push('back'); return l; });
  p.release(running);
  const [again, after] = await Promise.all([back, later]);
  assert.deepEqual(order, ['back', 'later'], 'it went before the request that arrived after it');
  assert.deepEqual([where(again), where(after)], ['a', 'a+'], 'it runs; the later one waits behind it');
  assert.equal(again.waitedMs, 100, 'its wait counts from its arrival');
  p.release(again);
  p.release(after);
  // Given back late, it keeps its own deadline: sent ahead again with what is left of it, not a new full wait.
  const blocker = sync(p.acquire());
  const late = sync(p.acquire());
  await clock.advance(900);
  const resent = await p.requeue(late);
  assert.deepEqual([where(resent), resent.aheadBudgetMs], ['a+', 100]);
  p.release(blocker);
});

test('nothing is recalled while requests wait in the gateway: a replica that frees takes those', async () => {
  const { p } = pool();
  p.setMembers([ep('a'), ep('b')]);
  const recalled: string[] = [];
  const runs = [sync(p.acquire()), sync(p.acquire())];
  for (const [i, l] of [sync(p.acquire()), sync(p.acquire())].entries()) sent(l, recalled, `x${i}`);
  const queued = p.acquire();
  assert.ok(queued instanceof Promise);
  p.release(runs[0]!);
  assert.equal(where(await queued), `${runs[0]!.member.replicaId}+`, 'the queued request takes the place');
  assert.deepEqual(recalled, []);
});

test('a replica left idle a moment recalls the youngest request waiting elsewhere, once; one busy again within the moment recalls nothing', async () => {
  const { p, clock } = pool();
  p.setMembers([ep('a'), ep('b')]);
  const recalled: string[] = [];
  const onA = sync(p.acquire());
  const onB = sync(p.acquire());
  const runB = onA.member.replicaId === 'a' ? onB : onA;
  const x = sent(sync(p.acquire()), recalled, 'x');
  const y = sent(sync(p.acquire()), recalled, 'y');
  const bAhead = x.member.replicaId === 'b' ? x : y;
  p.started(bAhead);
  p.release(runB);
  p.release(bAhead); // b is idle now; a runs a slow one with one waiting behind it
  const aAhead = bAhead === x ? 'y' : 'x';
  // b gets a request within the moment (a fast service's next one): nothing moves.
  const quick = sync(p.acquire());
  assert.equal(where(quick), 'b');
  await clock.advance(3);
  assert.deepEqual(recalled, [], 'b was busy when the moment ended');
  p.release(quick);
  await clock.advance(1);
  assert.deepEqual(recalled, []);
  await clock.advance(1);
  assert.deepEqual(recalled, [aAhead], 'idle when the moment ended: it asks');
  const z = sync(p.acquire());
  assert.equal(where(z), 'b', 'b is free for new requests meanwhile');
  p.release(z);
  await clock.advance(10);
  assert.deepEqual(recalled, [aAhead], 'a request is asked back once');
});

test('a drained replica gives back what waits in it to the replicas that stay; with none left it keeps it', async () => {
  const { p } = pool();
  p.setMembers([ep('a'), ep('b')]);
  const recalled: string[] = [];
  const leases = [sync(p.acquire()), sync(p.acquire())];
  const x = sent(sync(p.acquire()), recalled, 'x');
  const onX = x.member.replicaId;
  const stays = onX === 'a' ? 'b' : 'a';
  void p.drain([onX], 30_000);
  assert.deepEqual(recalled, ['x']);
  // Given back: it waits for the replica that stays.
  const back = p.requeue(x);
  p.release(leases.find((l) => l.member.replicaId === stays)!);
  assert.equal((await back).member.replicaId, stays);
  // The last replica keeps what waits in it when it is drained: nobody else could run it.
  const last = sent(sync(p.acquire()), recalled, 'last');
  assert.equal(where(last), `${stays}+`);
  void p.drain([stays], 30_000);
  assert.deepEqual(recalled, ['x']);
});

test('a request that expired in a replica is released and answered SERVICE_OVERLOADED with its wait since arrival', async () => {
  const { p, clock } = pool();
  p.setMembers([ep('a')]);
  sync(p.acquire());
  const ahead = sync(p.acquire());
  await clock.advance(500);
  const err = p.expired(ahead);
  assert.deepEqual([err.code, err.params.waitMs], ['SERVICE_OVERLOADED', 500]);
  assert.equal(p.snapshot().inFlight, 1);
});

test('a request waiting ahead in a replica counts as waiting for the autoscaler\'s early trigger', async () => {
  const { p, clock } = pool();
  p.setMembers([ep('a')]);
  sync(p.acquire());
  const ahead = sync(p.acquire());
  await clock.advance(120);
  assert.deepEqual(p.snapshot(), { ready: 1, inFlight: 2, queued: 0, oldestWaitMs: 120 });
  p.started(ahead);
  assert.equal(p.snapshot().oldestWaitMs, 0, 'once it started it waits no more');
});
