// Following an operation by events: GET /v1/operations/ID?seen=N&wait_ms=M answers at its next step or its end (so
// `berth deploy` returns the moment the replica is ready), or after wait_ms with nothing new.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { gatedSource } from '../helpers/gate.js';
import { startPlane, stopPlane, until } from '../helpers/services.js';
import type { Operation } from '../../src/control/services/operations.js';

after(cleanup);

test('a long poll on an operation answers at its end, not before, and after wait_ms when nothing happened', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const src = gatedSource();
  const out = await plane.ok(['deploy', '--name', 'held', '--entry-script', src.script, '--source-dir', src.dir, '--replicas', '1', '--no-wait']);
  const id = /operation ([0-9a-f-]{36})/.exec(out)![1]!;
  const get = async (query = ''): Promise<Operation> => {
    const r = await fetch(`${plane.url}/v1/operations/${id}${query}`);
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as Operation;
  };
  // Everything up to init() has happened: the operation now waits for the gate.
  const waiting = await until(async () => {
    const op = await get();
    return op.steps.at(-1)?.text === 'waiting for init() (0/1 ready)' ? op : undefined;
  }, 30_000, 'the operation waiting for init()');
  const seen = waiting.steps.length;

  const quiet = performance.now();
  const unchanged = await get(`?seen=${seen}&wait_ms=300`);
  assert.ok(performance.now() - quiet >= 290, 'nothing new: it waited wait_ms');
  assert.deepEqual([unchanged.status, unchanged.steps.length], ['Running', seen]);

  let answeredAt: number | undefined;
  const next = get(`?seen=${seen}&wait_ms=60000`).then((op) => { answeredAt = performance.now(); return op; });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(answeredAt, undefined, 'held while nothing changes');
  const releasedAt = performance.now();
  src.release();
  const op = await next;
  assert.ok(answeredAt! >= releasedAt);
  // The next step (ready) or the end, whichever the answer caught first; following on, the end.
  assert.ok(op.steps.length > seen || op.status !== 'Running');
  const end = op.status === 'Running' ? await get(`?seen=${op.steps.length}&wait_ms=60000`) : op;
  const final = end.status === 'Running' ? await get(`?seen=${end.steps.length}&wait_ms=60000`) : end;
  assert.equal(final.status, 'Succeeded');
  // Without seen, an answer at once, as before.
  assert.equal((await get()).status, 'Succeeded');
});
