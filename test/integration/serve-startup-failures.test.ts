// berth serve: entry scripts that cannot start exit with code 3 and say exactly why, with the model directory tree.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runServeToExit } from '../helpers/serve-process.js';

const modelDir = fixture('models');

describe('berth serve start-up failures', () => {
  test('init() raising: exit 3 with exception, file and line, traceback and the model tree', async () => {
    const run = await runServeToExit(['--entry-script', fixture('init_fails.py'), '--model-dir', modelDir]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /init\(\) raised an exception/);
    assert.match(run.stderr, /ValueError: bad init/);
    assert.match(run.stderr, /at: .*init_fails\.py:\d+/);
    assert.match(run.stderr, /Traceback \(most recent call last\)/);
    assert.match(run.stderr, /sum-model\//);
    assert.match(run.stderr, /weights\.json \(\d+ bytes\)/);
    assert.match(run.stderr, /fix: /);
  });

  test('a syntax error: exit 3 naming the file and line', async () => {
    const run = await runServeToExit(['--entry-script', fixture('syntax_error.py')]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /failed to import/);
    assert.match(run.stderr, /SyntaxError/);
    assert.match(run.stderr, /syntax_error\.py:\d+/);
  });

  test('an import of a missing package: exit 3 with ModuleNotFoundError', async () => {
    const run = await runServeToExit(['--entry-script', fixture('import_error.py')]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /ModuleNotFoundError/);
    assert.match(run.stderr, /import_error\.py:\d+/);
  });

  test('a missing run(): exit 3 naming the missing function', async () => {
    const run = await runServeToExit(['--entry-script', fixture('missing_run.py')]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /does not define run\(\)/);
  });

  test('a model the script asks for is not mounted: the error lists what is', async () => {
    const run = await runServeToExit(['--entry-script', fixture('missing_model.py'), '--model-dir', modelDir]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /does-not-exist/);
    assert.match(run.stderr, /sum-model/);
  });

  test('an entry script that does not exist, and a bad flag value, are refused before starting', async () => {
    const missing = await runServeToExit(['--entry-script', fixture('no_such_script.py')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /does not exist/);
    const bad = await runServeToExit(['--entry-script', fixture('sum_score.py'), '--worker-count', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--worker-count/);
  });

  test('a Python interpreter that cannot be started: exit 3 naming it, at once', async () => {
    const run = await runServeToExit(['--entry-script', fixture('sum_score.py'), '--python', '/nonexistent/python3'], { timeoutMs: 10_000 });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /cannot start the Python interpreter \/nonexistent\/python3/);
  });

  test('init() past --init-timeout-s: exit 3 saying so, for a Python worker, JS worker threads and JS in the server\'s thread', async () => {
    // init() that never finishes (gated_init.py is never released here), not one that is merely slower than the limit.
    for (const args of [['gated_init.py'], ['hang_init.mjs', '--worker-count', '2'], ['hang_init.mjs']]) {
      const [script, ...rest] = args;
      const run = await runServeToExit(['--entry-script', fixture(script!), '--init-timeout-s', '1', ...rest], { timeoutMs: 15_000 });
      assert.equal(run.code, 3, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /InitTimeout: init\(\) did not finish within 1 s/);
      assert.match(run.stderr, /fix: Make init\(\) faster or raise --init-timeout-s/);
    }
  });

  test('a JS entry script whose init() throws exits 3 too', async () => {
    const run = await runServeToExit(['--entry-script', fixture('init_fails.mjs')]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /init\(\) raised an exception/);
    assert.match(run.stderr, /init_fails\.mjs:\d+/);
  });
});
