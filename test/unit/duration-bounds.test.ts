// Duration settings stop at what a Node.js timer holds (2^31−1 ms): every flag, variable and deployment field refuses
// a longer value naming itself, accepts the bound, and computed delays (a timeout plus a margin) are clamped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { clampTimerMs, MAX_TIMER_MS, MAX_TIMER_S } from '../../src/core/durations.js';
import { parseServeSettings } from '../../src/inference/settings.js';
import { parseControlSettings } from '../../src/control/settings.js';
import { deployRequestSchema, parseWith, updateRequestSchema } from '../../src/control/services/spec.js';
import { InFlightQueue } from '../../src/inference/runtime/in-flight.js';
import { BerthError } from '../../src/errors/catalogue.js';
import { addSpecOptions, deployRequest } from '../../src/cli/service-request.js';

const script = fileURLToPath(new URL('../fixtures/sum_score.py', import.meta.url));

/** Asserts `fn` throws `code` whose message names `field` and says what the bound is. */
function refuses(fn: () => unknown, code: string, field: string, bound: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BerthError, String(e));
    assert.equal(e.code, code);
    assert.ok(e.message.includes(field), `"${e.message}" names ${field}`);
    assert.match(e.message, bound);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('the bounds: 2^31−1 ms, and the seconds whose milliseconds fit', () => {
  assert.equal(MAX_TIMER_MS, 2_147_483_647);
  assert.equal(MAX_TIMER_S, 2_147_483);
  assert.ok(MAX_TIMER_S * 1000 <= MAX_TIMER_MS);
});

test('berth serve: each duration flag refuses a value past the bound, naming the flag, and accepts the bound', () => {
  const cases = [
    ['scoringTimeoutMs', '--scoring-timeout-ms', MAX_TIMER_MS, /2147483647 ms/],
    ['maxQueueWaitMs', '--max-queue-wait-ms', MAX_TIMER_MS, /2147483647 ms/],
    ['initTimeoutS', '--init-timeout-s', MAX_TIMER_S, /2147483 s/],
    ['shutdownTimeoutS', '--shutdown-timeout-s', MAX_TIMER_S, /2147483 s/],
  ] as const;
  for (const [key, flag, bound, says] of cases) {
    refuses(() => parseServeSettings({ entryScript: script, [key]: String(bound + 1) }, {}), 'INVALID_SETTINGS', flag, says);
    assert.equal(parseServeSettings({ entryScript: script, [key]: String(bound) }, {})[key], bound);
  }
  refuses(() => parseServeSettings({ entryScript: script, scoringTimeoutMs: '3000000000' }, {}), 'INVALID_SETTINGS', '--scoring-timeout-ms', /at most/);
});

test('berth serve: SCORING_TIMEOUT_MS past the bound is refused naming the variable; a flag still wins over it', () => {
  refuses(() => parseServeSettings({ entryScript: script }, { SCORING_TIMEOUT_MS: '3000000000' }), 'INVALID_SETTINGS', 'SCORING_TIMEOUT_MS', /2147483647 ms/);
  assert.equal(parseServeSettings({ entryScript: script }, { SCORING_TIMEOUT_MS: String(MAX_TIMER_MS) }).scoringTimeoutMs, MAX_TIMER_MS);
  assert.equal(parseServeSettings({ entryScript: script, scoringTimeoutMs: '1000' }, { SCORING_TIMEOUT_MS: '3000000000' }).scoringTimeoutMs, 1000);
});

test('berth up: schedule timeout and stabilization stop at the timer bound, the restart back-off at its 5 min cap', () => {
  const home = '/tmp/berth-bounds';
  refuses(() => parseControlSettings({ home, scheduleTimeout: `${MAX_TIMER_MS + 1}ms` }, {}), 'INVALID_SETTINGS', '--schedule-timeout', /2147483647 ms/);
  refuses(() => parseControlSettings({ home, scheduleTimeout: '600h' }, {}), 'INVALID_SETTINGS', '--schedule-timeout', /at most/);
  assert.equal(parseControlSettings({ home, scheduleTimeout: `${MAX_TIMER_MS}ms` }, {}).scheduleTimeoutMs, MAX_TIMER_MS);
  refuses(() => parseControlSettings({ home, autoscaleStabilization: `${MAX_TIMER_MS + 1}ms` }, {}), 'INVALID_SETTINGS', '--autoscale-stabilization', /2147483647 ms/);
  assert.equal(parseControlSettings({ home, autoscaleStabilization: `${MAX_TIMER_MS}ms` }, {}).autoscaleStabilizationMs, MAX_TIMER_MS);
  refuses(() => parseControlSettings({ home, restartBackoff: '301s' }, {}), 'INVALID_SETTINGS', '--restart-backoff', /at most 5m/);
  assert.equal(parseControlSettings({ home, restartBackoff: '5m' }, {}).restartBackoffMs, 300_000);
});

test('deployment fields (API body, YAML, flags): each duration past the bound is VALIDATION_FAILED naming it; the bound is accepted', () => {
  const base = { name: 'svc', entry_script: '/srv/score.py' };
  const cases = [
    ['scoring_timeout_ms', MAX_TIMER_MS, {}],
    ['max_request_wait_time', MAX_TIMER_MS, {}],
    ['autoscale_refresh_seconds', MAX_TIMER_S, {}],
    ['period_seconds', MAX_TIMER_S, {}],
    ['timeout_seconds', MAX_TIMER_S, {}],
  ] as const;
  for (const [field, bound] of cases) {
    const says = bound === MAX_TIMER_MS ? /2147483647 ms/ : /2147483 s/;
    refuses(() => parseWith(deployRequestSchema, { ...base, [field]: bound + 1 }), 'VALIDATION_FAILED', field, says);
    refuses(() => parseWith(updateRequestSchema, { [field]: bound + 1 }), 'VALIDATION_FAILED', field, says);
    assert.equal(parseWith(deployRequestSchema, { ...base, [field]: bound })[field], bound);
  }
  // Seconds may be fractional: just past the bound in milliseconds is refused too.
  refuses(() => parseWith(deployRequestSchema, { ...base, period_seconds: 2_147_483.648 }), 'VALIDATION_FAILED', 'period_seconds', /at most/);
  refuses(() => parseWith(deployRequestSchema, { ...base, scoring_timeout_ms: 3_000_000_000 }), 'VALIDATION_FAILED', 'scoring_timeout_ms', /at most/);
});

test('berth deploy: a flag or a service.yml field past the bound is refused naming the field and the flag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bounds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const parsed = (args: string[]): Command => addSpecOptions(new Command().exitOverride()).parse(args, { from: 'user' });
  await assert.rejects(deployRequest(parsed(['--entry-script', '/srv/score.py', '--scoring-timeout-ms', '3000000000']), dir, 'svc'),
    (e: unknown) => e instanceof BerthError && e.code === 'VALIDATION_FAILED' && /^invalid scoring_timeout_ms \(--scoring-timeout-ms\): must be at most 2147483647 ms/.test(e.message));
  writeFileSync(join(dir, 'service.yml'), 'name: svc\nentry_script: /srv/score.py\nperiod_seconds: 3000000\n');
  await assert.rejects(deployRequest(parsed(['-f', 'service.yml']), dir, undefined),
    (e: unknown) => e instanceof BerthError && e.code === 'VALIDATION_FAILED' && /^invalid period_seconds: must be at most 2147483 s/.test(e.message));
});

test('computed delays are clamped to what a timer holds', () => {
  assert.equal(clampTimerMs(MAX_TIMER_MS + 2000), MAX_TIMER_MS);
  assert.equal(clampTimerMs(60_000 + 2000), 62_000);
  assert.equal(clampTimerMs(-5), 0);
});

test('a request sent ahead with the longest queue wait does not expire at once (its wait plus the margin is clamped)', async () => {
  const q = new InFlightQueue(1, () => assert.fail('no overrun'));
  const seen: string[] = [];
  q.add(1, (o) => seen.push(`1:${o.kind}`), MAX_TIMER_MS, undefined);
  q.add(2, (o) => seen.push(`2:${o.kind}`), MAX_TIMER_MS, MAX_TIMER_MS);
  try {
    // An overflowed expiry fires after 1 ms, before this later timer; a clamped one has not fired.
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(seen, []);
  } finally {
    q.failAll('done'); // clears both timers, whatever happened, so no 24-day timer keeps the test alive
  }
  assert.deepEqual(seen, ['1:worker_died', '2:requeue']);
});
