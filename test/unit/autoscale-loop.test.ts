// The autoscaler loop on a fake clock with a fake gateway and scaler: samples per period (sooner under queueing), decisions recorded, one action at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Autoscaler, TICK_MS, type LoadReading, type ScalableService } from '../../src/autoscale/loop.js';
import type { ScaleDecision } from '../../src/autoscale/policy.js';
import { fakeClock } from '../helpers/fake-clock.js';

const svc: ScalableService = { name: 'svc', generation: 1, autoscale: true, refreshSeconds: 1, maxConcurrent: 1, maxWaitMs: 500, minReplicas: 1, maxReplicas: 4, targetUtilization: 70 };

function harness(o: { service?: ScalableService; stabilizationMs?: number } = {}) {
  const clock = fakeClock();
  let replicas = 1;
  let load: LoadReading = { ready: 1, meanInFlight: 0, queued: 0 };
  let oldestWaitMs = 0;
  let services: ScalableService[] = [o.service ?? svc];
  const decisions: Array<{ at: number; d: ScaleDecision }> = [];
  const actions: number[] = [];
  const samples: number[] = [];
  let finishAction: (() => void) | undefined;
  const scaler = new Autoscaler({
    clock,
    stabilizationMs: o.stabilizationMs ?? 2000,
    services: () => services,
    oldestWaitMs: () => oldestWaitMs,
    sample: () => { samples.push(clock.now()); return load; },
    count: () => replicas,
    scale: (_s, to) => {
      actions.push(to);
      return new Promise<void>((resolve) => { finishAction = () => { replicas = to; load = { ...load, ready: to }; resolve(); }; });
    },
    record: (_name, d) => decisions.push({ at: clock.now(), d }),
    onError: (_name, err) => { throw err; },
  });
  return {
    clock, scaler, decisions, actions, samples,
    setLoad: (l: Partial<LoadReading>) => { load = { ...load, ...l }; },
    setOldestWait: (ms: number) => { oldestWaitMs = ms; },
    setServices: (s: ScalableService[]) => { services = s; },
    finish: () => finishAction?.(),
  };
}

test('busy replicas above target scale up at the next sample; the action runs once and the count follows', async () => {
  const h = harness();
  h.scaler.start();
  await h.clock.advance(TICK_MS); // first sight: the policy starts from the replicas there are
  h.setLoad({ meanInFlight: 1, queued: 2 }); // 1 busy + 2 waiting = 3 replicas' worth of demand
  await h.clock.advance(1000);
  assert.equal(h.decisions.length, 1);
  assert.equal(h.decisions[0]!.d.message, '1 → 4: utilization 100% > target 70%; capped at max 4');
  assert.deepEqual(h.actions, [4]);
  await h.clock.advance(1000);
  assert.deepEqual(h.actions, [4], 'one action at a time');
  h.finish();
  h.setLoad({ meanInFlight: 2.4, queued: 0 });
  await h.clock.advance(1000);
  assert.deepEqual(h.actions, [4]);
  assert.equal(h.scaler.view('svc')?.desired, 4);
  assert.equal(h.scaler.view('svc')?.utilization, 60);
  await h.scaler.stop();
});

test('below target the count drops only after the stabilisation window, to what the window\'s peak needs', async () => {
  const h = harness();
  h.scaler.start();
  await h.clock.advance(TICK_MS);
  h.setLoad({ meanInFlight: 1, queued: 3 });
  await h.clock.advance(1000);
  h.finish();
  h.setLoad({ ready: 4, meanInFlight: 0.5, queued: 0 });
  await h.clock.advance(2000);
  assert.equal(h.decisions.length, 1, 'not within the 2 s window');
  await h.clock.advance(1250);
  assert.equal(h.decisions.length, 2);
  assert.match(h.decisions[1]!.d.message, /^4 → 1: utilization 13% < target 70% for [\d.]+ s$/);
  assert.deepEqual(h.actions, [4, 1]);
  h.finish();
  await h.scaler.stop();
});

test('queueing triggers a sample before the period ends; short bursts do not', async () => {
  const h = harness({ service: { ...svc, refreshSeconds: 10 } });
  h.scaler.start();
  await h.clock.advance(TICK_MS);
  const first = h.samples.length;
  h.setLoad({ meanInFlight: 1, queued: 5 });
  h.setOldestWait(50); // a brief queue: below a fifth of max_request_wait_time
  await h.clock.advance(1000);
  assert.equal(h.samples.length, first, 'no early sample');
  h.setOldestWait(120);
  await h.clock.advance(TICK_MS);
  assert.equal(h.samples.length, first + 1, 'an early sample');
  assert.deepEqual(h.actions, [4]);
  h.finish();
  await h.scaler.stop();
});

test('fixed services are sampled for utilization but never scaled; a service busy with an operation starts afresh', async () => {
  const fixed = { ...svc, autoscale: false };
  const h = harness({ service: fixed });
  h.scaler.start();
  await h.clock.advance(TICK_MS);
  h.setLoad({ meanInFlight: 1, queued: 9 });
  await h.clock.advance(2000);
  assert.deepEqual(h.actions, []);
  assert.equal(h.scaler.view('svc')?.utilization, 100);
  h.setServices([]);
  await h.clock.advance(TICK_MS);
  assert.equal(h.scaler.view('svc'), undefined);
  await h.scaler.stop();
});
