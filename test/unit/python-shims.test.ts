// Runs the Python worker's own unit tests (test/python, stdlib unittest) so `npm test` covers berth_runner.py and its shims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The system interpreter: that is where Debian's python3-sklearn lives (the tests skip sklearn without it).
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

test('the Python runner and shim unit tests pass', () => {
  const result = spawnSync(python, ['-m', 'unittest', 'discover', '-s', 'test/python', '-p', 'test_*.py'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.error, undefined, `cannot run ${python}: ${result.error?.message}`);
  assert.equal(result.status, 0, `python unittest failed:\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, /\nOK/);
});
