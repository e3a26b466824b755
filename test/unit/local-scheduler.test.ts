// The local scheduler's decisions and messages, table-driven, in Kubernetes' words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exceedsCapacityError, fitsMachine, formatHms, freeResources, schedule, schedulingTimeoutError, schedulingTimeoutMessage } from '../../src/targets/local/scheduler.js';
import type { Resources } from '../../src/targets/local/resources.js';

const r = (cpu: number, memoryGb: number, gpu = 0): Resources => ({ cpu, memoryGb, gpu });
const machine = r(4, 16, 1);

test('schedule: fits, or the reason as the kube-scheduler says it', () => {
  const table: Array<{ name: string; placed: Resources[]; request: Resources; reason?: string }> = [
    { name: 'empty machine', placed: [], request: r(0.1, 0.5) },
    { name: 'exactly the rest', placed: [r(3, 12, 1)], request: r(1, 4) },
    { name: 'float sums do not drift', placed: [r(0.1, 0.1), r(0.2, 0.2)], request: r(3.7, 15.7) },
    { name: 'GPU taken', placed: [r(0.1, 0.5, 1)], request: r(0.1, 0.5, 1), reason: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu' },
    { name: 'no GPU at all', placed: [], request: r(0.1, 0.5, 2), reason: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu' },
    { name: 'CPU short', placed: [r(3.95, 1)], request: r(0.1, 0.5), reason: '0/1 nodes are available: 1 Insufficient cpu' },
    { name: 'memory short', placed: [r(1, 15.75)], request: r(0.1, 0.5), reason: '0/1 nodes are available: 1 Insufficient memory' },
    { name: 'all three, sorted', placed: [r(4, 16, 1)], request: r(1, 1, 1), reason: '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Insufficient nvidia.com/gpu' },
    { name: 'cpu and memory', placed: [r(3.5, 15)], request: r(1, 2), reason: '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory' },
    { name: 'unrequested resources never block (capacity lowered under placed replicas)', placed: [r(1, 1, 2)], request: r(0.5, 0.5, 0) },
  ];
  for (const row of table) {
    const d = schedule(machine, row.placed, row.request);
    if (row.reason === undefined) {
      assert.equal(d.fits, true, row.name);
    } else {
      assert.equal(d.fits, false, row.name);
      if (!d.fits) assert.equal(d.reason, row.reason, row.name);
    }
  }
});

test('freeResources subtracts placed requests', () => {
  assert.deepEqual(freeResources(machine, [r(1, 4), r(0.5, 2, 1)]), r(2.5, 10, 0));
});

test('fitsMachine: a request larger than the whole machine can never fit', () => {
  assert.equal(fitsMachine(machine, r(4, 16, 1)).fits, true);
  const d = fitsMachine(machine, r(8, 1, 0));
  assert.equal(d.fits, false);
  if (!d.fits) assert.deepEqual(d.insufficient, ['cpu']);
  assert.equal(exceedsCapacityError(machine, r(1, 1)), undefined);
  const err = exceedsCapacityError(machine, r(1, 1, 2))!;
  assert.equal(err.code, 'REQUEST_EXCEEDS_CAPACITY');
  assert.equal(err.message, 'a replica requesting cpu=1, memory_gb=1, gpu=2 can never be placed on this machine (cpu=4, memory_gb=16, gpu=1): 0/1 nodes are available: 1 Insufficient nvidia.com/gpu');
});

test('formatHms and the scheduling-timeout message', () => {
  const table: Array<[number, string]> = [[300_000, '00:05:00'], [0, '00:00:00'], [1, '00:00:01'], [59_999, '00:01:00'], [3_723_000, '01:02:03'], [360_000_000, '100:00:00']];
  for (const [ms, hms] of table) assert.equal(formatHms(ms), hms, String(ms));
  assert.equal(schedulingTimeoutMessage(300_000), "Couldn't Schedule because the kubernetes cluster didn't have available resources after trying for 00:05:00");
  const err = schedulingTimeoutError(2000, '0/1 nodes are available: 1 Insufficient nvidia.com/gpu');
  assert.equal(err.code, 'SCHEDULING_TIMEOUT');
  assert.equal(err.message, "Couldn't Schedule because the kubernetes cluster didn't have available resources after trying for 00:00:02. 0/1 nodes are available: 1 Insufficient nvidia.com/gpu");
});
