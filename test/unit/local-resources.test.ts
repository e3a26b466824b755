// Capacity parsing (`--capacity cpu=…,memory_gb=…,gpu=…`), nvidia-smi output, and detection with overrides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/errors/catalogue.js';
import { detectCapacity, formatResources, GIB, parseCapacity, parseNvidiaSmi } from '../../src/targets/local/resources.js';

test('parseCapacity accepts any subset of cpu, memory_gb and gpu', () => {
  const cases: Array<[string, object]> = [
    ['cpu=4,memory_gb=16,gpu=1', { cpu: 4, memoryGb: 16, gpu: 1 }],
    ['cpu=0.5', { cpu: 0.5 }],
    [' memory_gb = 7.5 , gpu=0 ', { memoryGb: 7.5, gpu: 0 }],
    ['GPU=2', { gpu: 2 }],
    ['memory_gb=.5', { memoryGb: 0.5 }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseCapacity(text), expected, text);
});

test('parseCapacity rejects bad input with INVALID_CAPACITY naming the problem', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /it is empty/],
    ['cpu', /"cpu" is not key=value/],
    ['cpu=4,,gpu=1', /empty item/],
    ['cpu=4,', /empty item/],
    ['cores=4', /unknown key "cores"; the keys are cpu, memory_gb and gpu/],
    ['cpu=4,cpu=2', /cpu is given twice/],
    ['cpu=abc', /cpu=abc: "abc" is not a non-negative number/],
    ['cpu=-1', /not a non-negative number/],
    ['cpu=0x10', /not a non-negative number/],
    ['memory_gb=', /is not a non-negative number/],
    ['cpu=0', /cpu=0: must be greater than 0/],
    ['memory_gb=0', /must be greater than 0/],
    ['gpu=1.5', /GPUs are whole devices/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseCapacity(text), (err: unknown) => {
      assert.ok(err instanceof BerthError, text);
      assert.equal(err.code, 'INVALID_CAPACITY');
      assert.equal(err.status, 400);
      assert.match(err.message, pattern, text);
      assert.ok(err.message.startsWith(`invalid capacity "${text}"`));
      assert.match(err.fix, /--capacity cpu=8,memory_gb=32,gpu=1/);
      return true;
    });
  }
});

test('parseNvidiaSmi reads name and memory per line', () => {
  assert.deepEqual(parseNvidiaSmi('NVIDIA A100-SXM4-40GB, 40960 MiB\nTesla T4, 15360 MiB\n'), [
    { name: 'NVIDIA A100-SXM4-40GB', memoryMb: 40960 },
    { name: 'Tesla T4', memoryMb: 15360 },
  ]);
  assert.deepEqual(parseNvidiaSmi('\n'), []);
  assert.deepEqual(parseNvidiaSmi('Weird GPU, [N/A]'), [{ name: 'Weird GPU', memoryMb: undefined }]);
});

test('detectCapacity: detected values, GPUs from nvidia-smi, overrides win and skip nvidia-smi', async () => {
  const seams = { cpuCount: () => 8, totalMemoryBytes: () => 32 * GIB };
  const none = await detectCapacity({ ...seams, queryGpus: async () => ({ ok: false, why: 'nvidia-smi not found' }) });
  assert.deepEqual([none.cpu, none.memoryGb, none.gpu], [8, 32, 0]);
  assert.equal(none.gpuDetection, 'nvidia-smi not found: 0 GPUs');
  assert.deepEqual(none.source, { cpu: 'detected', memoryGb: 'detected', gpu: 'detected' });

  const two = await detectCapacity({ ...seams, queryGpus: async () => ({ ok: true, stdout: 'A, 1 MiB\nB, 2 MiB\n' }) });
  assert.equal(two.gpu, 2);
  assert.equal(two.gpus[1]!.name, 'B');

  let asked = false;
  const over = await detectCapacity({ ...seams, override: 'gpu=1,memory_gb=4', queryGpus: async () => { asked = true; return { ok: true, stdout: '' }; } });
  assert.equal(asked, false);
  assert.deepEqual([over.cpu, over.memoryGb, over.gpu], [8, 4, 1]);
  assert.deepEqual(over.source, { cpu: 'detected', memoryGb: 'override', gpu: 'override' });
  await assert.rejects(detectCapacity({ ...seams, override: 'gpu=x' }), /INVALID_CAPACITY|not a non-negative number/);
});

test('detectCapacity on this machine gives positive CPU and memory within bounded time', async () => {
  const t0 = Date.now();
  const c = await detectCapacity({ gpuTimeoutMs: 3000 });
  assert.ok(c.cpu >= 1 && c.memoryGb > 0 && c.gpu >= 0);
  assert.ok(Date.now() - t0 < 5000);
  assert.match(formatResources({ cpu: 2, memoryGb: 23.456, gpu: 0 }), /^cpu=2, memory_gb=23.46, gpu=0$/);
});
