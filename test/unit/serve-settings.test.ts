// berth serve settings: defaults from DESIGN.md, classic environment variables, flags winning, strict validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseServeSettings } from '../../src/inference/settings.js';
import { BerthError } from '../../src/errors/catalogue.js';

const script = fileURLToPath(new URL('../fixtures/sum_score.py', import.meta.url));

test('defaults follow the design: port 5001, 1 worker, 60 s scoring timeout, 500 ms queue wait, concurrency = workers', () => {
  const s = parseServeSettings({ entryScript: script }, {});
  assert.equal(s.port, 5001);
  assert.equal(s.workerCount, 1);
  assert.equal(s.scoringTimeoutMs, 60_000);
  assert.equal(s.maxQueueWaitMs, 500);
  assert.equal(s.maxConcurrentRequests, 1);
  assert.equal(s.initTimeoutS, 600);
  assert.equal(s.runtime, 'python');
  assert.ok(Object.isFrozen(s));
});

test('classic environment variables apply, and flags win over them', () => {
  const env = { AZUREML_ENTRY_SCRIPT: script, WORKER_COUNT: '3', SCORING_TIMEOUT_MS: '1000', AML_CORS_ORIGINS: 'http://a, http://b' };
  const fromEnv = parseServeSettings({}, env);
  assert.equal(fromEnv.workerCount, 3);
  assert.equal(fromEnv.maxConcurrentRequests, 3);
  assert.equal(fromEnv.scoringTimeoutMs, 1000);
  assert.deepEqual(fromEnv.corsOrigins, ['http://a', 'http://b']);
  assert.equal(parseServeSettings({ workerCount: '2' }, env).workerCount, 2);
});

test('bad values and unknown settings are rejected with the flag named', () => {
  assert.throws(() => parseServeSettings({ entryScript: script, workerCount: '0' }, {}), (e: unknown) => e instanceof BerthError && e.code === 'INVALID_SETTINGS' && e.message.includes('--worker-count'));
  assert.throws(() => parseServeSettings({ entryScript: script, port: 'abc' }, {}), /--port/);
  assert.throws(() => parseServeSettings({ entryScript: script, bogus: '1' }, {}), (e: unknown) => e instanceof BerthError && e.code === 'INVALID_SETTINGS');
  assert.throws(() => parseServeSettings({ entryScript: '/nope/score.py' }, {}), (e: unknown) => e instanceof BerthError && e.code === 'ENTRY_SCRIPT_NOT_FOUND');
});
