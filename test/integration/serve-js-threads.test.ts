// berth serve with a JS entry script and --worker-count 2+: worker threads with their own init(), killed and replaced on timeouts and crashes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gate } from '../helpers/gate.js';
import { fixture, get, post, runServeToExit, startServe, untilReady, type ServeProcess } from '../helpers/serve-process.js';

type Json = Record<string, unknown>;
const threadOf = (res: { json: unknown }): number => Number((res.json as Json).thread);

async function withThreads(args: readonly string[], fn: (server: ServeProcess) => Promise<void>): Promise<void> {
  const server = await startServe(['--entry-script', fixture('threads_score.mjs'), '--worker-count', '2', ...args]);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** Polls until a plain request is answered 200 again (a replaced worker finished init()). */
async function servedAgain(url: string): Promise<{ json: unknown }> {
  for (let i = 0; i < 100; i++) {
    const res = await post(`${url}/score`, '{}');
    if (res.status === 200) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no worker served again');
}

/** Polls /ready until `busy` (how many workers hold a request) satisfies `enough`. */
function untilBusy(url: string, enough: (busy: number) => boolean): Promise<void> {
  return untilReady(url, (body) => enough(body.workers.filter((w) => w.busy).length), 'the workers at the expected load');
}

describe('berth serve JS worker threads', () => {
  test('two workers: each thread runs init() once (output tagged with its worker) and requests run in parallel on both', () =>
    withThreads([], async (server) => {
      const ready = (await get(`${server.url}/ready`)).json as { ready: boolean; workers: Array<{ id: number; phase: string }> };
      assert.equal(ready.ready, true);
      assert.deepEqual(ready.workers.map((w) => [w.id, w.phase]), [[1, 'ready'], [2, 'ready']]);
      for (const worker of [1, 2]) await server.waitForLog((l) => l.worker === worker && l.stream === 'stdout' && /^init in thread [1-9]/.test(String(l.msg)));

      // Two requests that each hold their thread until both are seen running at once: with one thread the second would wait.
      const held = gate();
      const holding = Promise.all([1, 2].map(() => post(`${server.url}/score`, JSON.stringify({ how: 'busy', until_file: held.path }))));
      await untilBusy(server.url, (busy) => busy === 2);
      held.release();
      const busy = await holding;
      assert.deepEqual(busy.map((r) => r.status), [200, 200]);
      assert.notEqual(threadOf(busy[0]!), threadOf(busy[1]!));
      assert.ok(busy.every((r) => threadOf(r) > 0), 'answered by worker threads, not the main thread');
      assert.equal((busy[0]!.json as Json).initialised, true);
    }));

  test('headers reach a run(input, headers) thread and a Response result sets status, headers and body', () =>
    withThreads([], async (server) => {
      const res = await post(`${server.url}/score`, '{"how": "respond"}', { 'x-test': 'through' });
      assert.equal(res.status, 201);
      assert.deepEqual(res.json, { seen: 'through' });
      assert.match(res.headers.get('x-thread') ?? '', /^[1-9]\d*$/);
      const notUtf8 = await post(`${server.url}/score`, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
      assert.equal(notUtf8.status, 400);
      assert.equal((notUtf8.json as Json).code, 'BODY_NOT_UTF8');
    }));

  test('a synchronous run() past the scoring timeout: 504, its thread is ended and replaced, the server keeps serving', () =>
    withThreads(['--scoring-timeout-ms', '300'], async (server) => {
      const spin = await post(`${server.url}/score`, '{"how": "spin"}');
      assert.equal(spin.status, 504);
      assert.equal((spin.json as Json).code, 'SCORING_TIMEOUT');
      assert.match(String((spin.json as Json).message), /300 ms/);
      const recycled = await server.waitForLog((l) => /recycled after a scoring timeout of 300 ms; starting a new one/.test(String(l.msg)));
      await server.waitForLog((l) => l.msg === 'worker ready' && l.worker === recycled.worker && Number(l.thread) > 2);
      await servedAgain(server.url);
    }));

  test('process.exit() in run() and an exception thrown outside run(): 502 naming how, the worker restarts', () =>
    withThreads([], async (server) => {
      const exit = await post(`${server.url}/score`, '{"how": "exit"}');
      assert.equal(exit.status, 502, exit.text);
      assert.equal((exit.json as Json).code, 'WORKER_DIED');
      assert.match(String((exit.json as Json).message), /exited with code 7/);

      const thrown = await post(`${server.url}/score`, '{"how": "throw-later"}');
      assert.equal(thrown.status, 502, thrown.text);
      assert.match(String((thrown.json as Json).message), /uncaught RangeError: thrown outside run\(\)/);
      const logged = await server.waitForLog((l) => typeof l.traceback === 'string' && /thrown outside run/.test(String(l.traceback)));
      assert.match(String(logged.traceback), /threads_score\.mjs/);

      await servedAgain(server.url);
      await server.waitForLog((l) => /^worker \d exited with code 7; starting a new one$/.test(String(l.msg)));
    }));

  test('a request sent ahead to a busy thread that waits past --max-queue-wait-ms: 503, and the thread skips it', () =>
    withThreads(['--max-queue-wait-ms', '100'], async (server) => {
      // Both threads are held until the late request has been turned away.
      const held = gate();
      const busy = [1, 2].map(() => post(`${server.url}/score`, JSON.stringify({ how: 'busy', until_file: held.path })));
      await untilBusy(server.url, (busy) => busy === 2);
      // Had it run, this request would have ended its thread with code 7.
      const late = await post(`${server.url}/score`, '{"how": "exit"}');
      assert.equal(late.status, 503, late.text);
      assert.equal((late.json as Json).code, 'OVERLOADED');
      assert.equal(late.headers.get('retry-after'), '1');
      held.release();
      assert.deepEqual((await Promise.all(busy)).map((r) => r.status), [200, 200]);
      await untilBusy(server.url, (busy) => busy === 0); // the skipped request's own reply has come back too
      // Both threads answer again: each has worked through its queue, past the skipped request.
      const after = await Promise.all([1, 2].map(() => post(`${server.url}/score`, '{"how": "busy", "ms": 100}')));
      assert.deepEqual(after.map((r) => r.status), [200, 200]);
      assert.notEqual(threadOf(after[0]!), threadOf(after[1]!));
      assert.ok(!server.logs.some((l) => /exited with code 7/.test(String(l.msg))), 'the expired request never ran');
    }));

  test('an async run() holds its thread: a request waiting behind a slow one runs after it and is answered, not dropped', () =>
    withThreads(['--scoring-timeout-ms', '3000', '--max-queue-wait-ms', '5000'], async (server) => {
      // Both threads get a slow request (held until the test releases it), then each gets a fast one sent ahead behind it.
      const held = gate();
      const slowBody = JSON.stringify({ how: 'sleep', until_file: held.path });
      const slow1 = post(`${server.url}/score`, slowBody);
      await untilBusy(server.url, (busy) => busy >= 1);
      const slow2 = post(`${server.url}/score`, slowBody);
      await untilBusy(server.url, (busy) => busy === 2);
      const fast = [1, 2].map(() => post(`${server.url}/score`, '{"how": "sleep", "ms": 1}'));
      await untilReady(server.url, (body) => body.workers.every((w) => w.in_flight === 2), 'a fast request sent ahead to each thread');
      held.release();
      const all = await Promise.all([slow1, slow2, ...fast]);
      assert.deepEqual(all.map((r) => r.status), [200, 200, 200, 200], all.map((r) => r.text).join('\n'));
      assert.deepEqual(all.map((r) => { const j = r.json as Json; return j.released ?? j.slept; }), [true, true, 1, 1]);
    }));

  test('a TypeScript entry script runs in threads; init() throwing in a thread exits 3 naming the file and line', async () => {
    const server = await startServe(['--entry-script', fixture('async_score.ts'), '--worker-count', '2']);
    try {
      const res = await post(`${server.url}/score`, '{"values": [1, 2, 3]}');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { sum: 6 });
    } finally {
      await server.stop();
    }
    const run = await runServeToExit(['--entry-script', fixture('init_fails.mjs'), '--worker-count', '2']);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /init\(\) raised an exception/);
    assert.match(run.stderr, /init_fails\.mjs:3/);
    assert.match(run.stderr, /bad js init/);
  });
});
