// Parsing the exit-3 start-up report of `berth serve` into exception, file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureClass, formatInitError, parseInitError } from '../../src/targets/local/init-error.js';
import { initFailedError, oomKilledError } from '../../src/targets/local/messages.js';

const report = `{"level":30,"msg":"starting workers"}
berth: init() raised an exception (worker 1)
  entry script: /src/score.py
  exception: FileNotFoundError: [Errno 2] No such file or directory: 'model.pkl'
  at: /src/score.py:12

Traceback (most recent call last):
`;

test('the stderr report gives exception, message, file and line', () => {
  assert.deepEqual(parseInitError(report), { exception: 'FileNotFoundError', message: "[Errno 2] No such file or directory: 'model.pkl'", file: '/src/score.py', line: 12, kind: 'init' });
  assert.deepEqual(parseInitError('  exception: SyntaxError: invalid syntax\n  at: /src/s.py\n'), { exception: 'SyntaxError', message: 'invalid syntax', file: '/src/s.py' });
  assert.equal(parseInitError('nothing here'), undefined);
});

test('the structured init_failed log line wins when present', () => {
  const line = JSON.stringify({ level: 50, event: 'init_failed', kind: 'init', exception: 'ValueError', message: 'bad init', file: '/f/init_fails.py', line: 6, msg: 'entry script failed to start' });
  assert.deepEqual(parseInitError(`${line}\n${report}`), { exception: 'ValueError', message: 'bad init', file: '/f/init_fails.py', line: 6, kind: 'init' });
  assert.equal(formatInitError({ exception: 'ValueError', message: 'bad init', file: '/f/x.py', line: 6 }), 'ValueError: bad init at /f/x.py:6');
});

test('catalogue errors for the deploy operation', () => {
  const e = initFailedError('svc', 'svc-0', { exception: 'ValueError', message: 'bad init', file: '/f/x.py', line: 6 });
  assert.equal(e.message, 'replica svc-0 of service svc crashed during init(): ValueError: bad init at /f/x.py:6 (CrashLoopBackOff)');
  assert.match(e.fix, /berth service logs svc --replica svc-0 --init/);
  const o = oomKilledError('svc', 'svc-0', { limitBytes: 150 * 1048576, usageBytes: 229 * 1048576, rssPeakBytes: 229 * 1048576, detectedBy: 'sampler' });
  assert.equal(o.message, 'replica svc-0 of service svc was killed by SIGKILL for out-of-memory (OOMKilled): it used 229 MB, its limit is 150 MB');
  assert.match(o.fix, /Raise memory_gb/);
});

test('failure classes: what repeats on every start is permanent, the rest transient', () => {
  const e = (exception: string, kind?: 'import' | 'missing' | 'init' | 'timeout' | 'spawn') => ({ exception, message: '', ...(kind === undefined ? {} : { kind }) });
  assert.equal(failureClass(e('SyntaxError', 'import')), 'permanent');
  assert.equal(failureClass(e('ModuleNotFoundError', 'import')), 'permanent');
  assert.equal(failureClass(e('AttributeError', 'missing')), 'permanent');
  assert.equal(failureClass(e('FileNotFoundError', 'spawn')), 'permanent');
  assert.equal(failureClass(e('ModelNotFoundError', 'init')), 'permanent');
  assert.equal(failureClass(e('FileNotFoundError', 'init')), 'permanent');
  assert.equal(failureClass(e('ConnectionError', 'init')), 'transient');
  assert.equal(failureClass(e('ValueError', 'init')), 'transient');
  assert.equal(failureClass(e('TimeoutError', 'timeout')), 'transient');
  assert.equal(failureClass(e('ValueError')), 'transient', 'an unknown kind is given the benefit of a retry');
  const report = 'berth: the entry script failed to import (worker 1)\n  exception: SyntaxError: invalid syntax\n  at: /s.py:3\n';
  assert.equal(parseInitError(report)?.kind, 'import');
});
