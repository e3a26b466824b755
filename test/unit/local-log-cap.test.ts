// Cutting a replica's log back: the copy and the emptied file, reading across both, and following through the cut.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writesTo } from '../../src/core/log-cap.js';
import { capRunLog, readFrom, readReplicaLog, replicaLogPaths } from '../../src/targets/local/replica-logs.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-logcap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('past the cap the log is copied aside and emptied; reads and followers carry on across the cut', () => {
  const paths = replicaLogPaths(dir, 'svc', 'r1');
  mkdirSync(join(dir, 'svc'));
  const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');
  writeFileSync(paths.current, lines(0, 10));
  assert.equal(capRunLog(paths, 1000), false, 'under the cap: untouched');
  const followed = readFrom(paths.current, 0);
  assert.equal(capRunLog(paths, 50), true);
  assert.equal(readFileSync(paths.rotated, 'utf8'), lines(0, 10));
  assert.equal(readFileSync(paths.current, 'utf8'), '');
  appendFileSync(paths.current, lines(10, 13));
  // A follower that had read the whole old file gets the new lines, not nothing.
  assert.equal(readFrom(paths.current, followed.size).text, lines(10, 13));
  assert.equal(readReplicaLog(paths, 'current'), lines(0, 13));
  assert.equal(readReplicaLog(paths, 'current', 5), lines(8, 13), 'the tail reaches into the rotated file');
  assert.equal(readReplicaLog(paths, 'current', 2), lines(11, 13));
});

test('writesTo tells whether a descriptor is that file (how a detached control plane finds its own log)', () => {
  const log = join(dir, 'plane.log');
  const other = join(dir, 'other.log');
  writeFileSync(log, '');
  writeFileSync(other, '');
  const fd = openSync(log, 'a');
  try {
    assert.equal(writesTo(fd, log), true);
    assert.equal(writesTo(fd, other), false);
    assert.equal(writesTo(fd, join(dir, 'missing.log')), false);
  } finally {
    closeSync(fd);
  }
});
