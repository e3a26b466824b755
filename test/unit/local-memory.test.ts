// Memory enforcement logic without processes: cgroup discovery from /proc text, and the sampler's OOM verdict on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownCgroupDirs, detectMemoryCgroup } from '../../src/targets/local/cgroup.js';
import type { Clock } from '../../src/core/clock.js';
import { MemoryWatch } from '../../src/targets/local/memory-watch.js';
import type { OomReport } from '../../src/targets/types.js';

const MB = 1024 * 1024;

/** Timers that fire only when the test advances time. */
function fakeClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let next = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => { next += 1; timers.push({ at: now + ms, fn, id: next }); return next; },
    clearTimeout: (h) => { timers = timers.filter((t) => t.id !== h); },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = end;
    },
    pending: () => timers.length,
  };
}

test('ownCgroupDirs finds the v1 memory and v2 directories of this process', () => {
  const mountinfo = [
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const self = '4:memory:/svc/abc\n1:cpu:/\n0::/user.slice\n';
  assert.deepEqual(ownCgroupDirs(mountinfo, self), { v1: '/sys/fs/cgroup/memory/svc/abc', v2: '/sys/fs/cgroup/unified/user.slice' });
  // A container sees its own cgroup as the mount's root.
  assert.deepEqual(ownCgroupDirs('50 1 0:40 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/kubepods/pod1/c\n'), { v2: '/sys/fs/cgroup/c' });
  assert.deepEqual(ownCgroupDirs('', ''), {});
});

test('detectMemoryCgroup says why when nothing is usable', () => {
  const r = detectMemoryCgroup({ mountinfo: '', selfCgroup: '' });
  assert.equal(r.ok, false);
  const bad = detectMemoryCgroup({ parent: '/nonexistent/berth-test' });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.why, /cannot create a group under \/nonexistent\/berth-test/);
});

test('the RSS sampler reports the peak once the tree goes over the limit, then stops', () => {
  const clock = fakeClock();
  const samples = [60, 80, 120, 240, 10].map((m) => m * MB);
  let i = 0;
  const reports: OomReport[] = [];
  const watch = new MemoryWatch({ pid: 1, limitBytes: 150 * MB, clock, intervalMs: 250, onOom: (r) => reports.push(r), sampleRss: () => samples[i++] ?? 0 }).start();
  clock.advance(500);
  assert.equal(reports.length, 0);
  assert.equal(watch.peakRssBytes, 120 * MB);
  clock.advance(250);
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0], { limitBytes: 150 * MB, usageBytes: 240 * MB, rssPeakBytes: 240 * MB, detectedBy: 'sampler' });
  assert.equal(clock.pending(), 0, 'no sampling after the verdict');
  clock.advance(10_000);
  assert.equal(reports.length, 1);
});

test('stop() ends sampling', () => {
  const clock = fakeClock();
  let calls = 0;
  const watch = new MemoryWatch({ pid: 1, limitBytes: MB, clock, intervalMs: 100, onOom: () => assert.fail('no OOM'), sampleRss: () => { calls += 1; return 0; } }).start();
  clock.advance(1000);
  assert.equal(calls, 11);
  watch.stop();
  clock.advance(1000);
  assert.equal(calls, 11);
});
