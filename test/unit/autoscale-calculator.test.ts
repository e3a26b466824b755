// The replica calculator: DESIGN.md's formula on worked examples, with its steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/errors/catalogue.js';
import { calculateReplicas, type ReplicaInputs } from '../../src/autoscale/calculator.js';

const examples: Array<[ReplicaInputs, number, string]> = [
  // 40 × 0.05 = 2 in flight; ÷ 0.7 = 2.857; ÷ 1 → 3
  [{ targetRps: 40, requestSeconds: 0.05 }, 3, 'the step-load benchmark: 40 rps of 50 ms at 70%'],
  // 100 × 0.2 = 20; ÷ 0.7 = 28.57; ÷ 4 = 7.14 → 8
  [{ targetRps: 100, requestSeconds: 0.2, maxConcurrentPerReplica: 4 }, 8, 'four concurrent requests per replica'],
  // 10 × 1 = 10; ÷ 1.0 = 10 → exactly 10, not 11
  [{ targetRps: 10, requestSeconds: 1, targetUtilization: 100 }, 10, 'target 100 with an exact result'],
  // 14 × 0.05 = 0.7000000000000001 in floating point; ÷ 0.7 must still be 1
  [{ targetRps: 14, requestSeconds: 0.05 }, 1, 'float noise does not add a replica'],
  // 0.1 × 0.01 = 0.001 in flight: still one replica
  [{ targetRps: 0.1, requestSeconds: 0.01 }, 1, 'a trickle needs one replica'],
  // 1000 × 0.5 = 500; ÷ 0.5 = 1000; ÷ 8 = 125
  [{ targetRps: 1000, requestSeconds: 0.5, targetUtilization: 50, maxConcurrentPerReplica: 8 }, 125, 'heavy load'],
];

for (const [inputs, want, name] of examples) {
  test(`worked example: ${name}`, () => assert.equal(calculateReplicas(inputs).replicas, want));
}

test('the steps show the arithmetic with the numbers used', () => {
  const calc = calculateReplicas({ targetRps: 40, requestSeconds: 0.05 });
  assert.deepEqual(calc.inputs, { targetRps: 40, requestSeconds: 0.05, maxConcurrentPerReplica: 1, targetUtilization: 70 });
  assert.deepEqual(calc.steps, [
    { label: 'requests in flight', expression: '40 rps × 0.05 s', value: 2 },
    { label: 'capacity for 70% utilization', expression: '2 ÷ 0.7', value: 2.857143 },
    { label: 'replicas at 1 concurrent each', expression: '2.8571 ÷ 1', value: 2.857143 },
    { label: 'replicas', expression: 'ceil(2.8571)', value: 3 },
  ]);
});

test('inputs out of range are refused with INVALID_ARGUMENT', () => {
  const bad: ReplicaInputs[] = [
    { targetRps: 0, requestSeconds: 1 },
    { targetRps: 1, requestSeconds: -1 },
    { targetRps: Number.NaN, requestSeconds: 1 },
    { targetRps: 1, requestSeconds: 1, maxConcurrentPerReplica: 0 },
    { targetRps: 1, requestSeconds: 1, maxConcurrentPerReplica: 1.5 },
    { targetRps: 1, requestSeconds: 1, targetUtilization: 0 },
    { targetRps: 1, requestSeconds: 1, targetUtilization: 101 },
  ];
  for (const inputs of bad) assert.throws(() => calculateReplicas(inputs), (e: unknown) => e instanceof BerthError && e.code === 'INVALID_ARGUMENT');
});
