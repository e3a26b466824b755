// berth serve refuses a duration a timer cannot hold (it would time out every request at once): exit 2 and one line
// naming the flag or the classic variable, before any worker starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runServeToExit } from '../helpers/serve-process.js';

/** The error line, and that it is all there is besides the fix (no stack, no server start-up). */
function errorLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 2, `an error line and its fix:\n${stderr}`);
  assert.match(lines[1] ?? '', /^ {2}fix: /);
  return lines[0] ?? '';
}

test('--scoring-timeout-ms 3000000000: exit 2 with one line naming the flag and the bound', async () => {
  const run = await runServeToExit(['--entry-script', fixture('sum_score.py'), '--scoring-timeout-ms', '3000000000']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(errorLine(run.stderr), /^berth: invalid setting --scoring-timeout-ms: must be at most 2147483647 ms/);
  assert.equal(run.stdout, '', 'no worker was started');
});

test('SCORING_TIMEOUT_MS=3000000000: exit 2 with one line naming the variable', async () => {
  const run = await runServeToExit(['--entry-script', fixture('sum_score.py')], { env: { SCORING_TIMEOUT_MS: '3000000000' } });
  assert.equal(run.code, 2, run.stderr);
  assert.match(errorLine(run.stderr), /^berth: invalid setting SCORING_TIMEOUT_MS: must be at most 2147483647 ms/);
});

test('--init-timeout-s past 2147483 s: exit 2 naming the flag', async () => {
  const run = await runServeToExit(['--entry-script', fixture('sum_score.py'), '--init-timeout-s', '2147484']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(errorLine(run.stderr), /^berth: invalid setting --init-timeout-s: must be at most 2147483 s/);
});
