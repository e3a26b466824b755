// berth serve: worker failures and load: run() raising, timeouts, crashes, concurrency, queue overflow, SIGTERM drain.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gate } from '../helpers/gate.js';
import { fixture, get, post, startServe, untilReady } from '../helpers/serve-process.js';

type Json = Record<string, unknown>;

describe('berth serve worker behaviour', () => {
  test('run() raising: 500 with a JSON message, traceback in the log with the request id; --debug adds it to the body', async () => {
    const server = await startServe(['--entry-script', fixture('run_fails.py')]);
    try {
      const res = await post(`${server.url}/score`, '{}', { 'x-request-id': 'fail-1' });
      assert.equal(res.status, 500);
      const body = res.json as Json;
      assert.equal(body.code, 'RUN_FAILED');
      assert.equal(body.request_id, 'fail-1');
      assert.equal(body.traceback, undefined);
      const line = await server.waitForLog((l) => l.request_id === 'fail-1' && typeof l.traceback === 'string');
      assert.match(String(line.traceback), /ZeroDivisionError/);
      assert.match(String(line.traceback), /run_fails\.py/);
    } finally {
      await server.stop();
    }
    const debug = await startServe(['--entry-script', fixture('run_fails.py'), '--debug']);
    try {
      const res = await post(`${debug.url}/score`, '{}');
      assert.equal(res.status, 500);
      assert.match(String((res.json as Json).exception), /ZeroDivisionError/);
      assert.match(String((res.json as Json).traceback), /Traceback/);
    } finally {
      await debug.stop();
    }
  });

  test('scoring timeout: 504, the worker is killed and replaced, and the next request is served', async () => {
    const server = await startServe(['--entry-script', fixture('sleep_score.py'), '--scoring-timeout-ms', '300']);
    try {
      const first = await post(`${server.url}/score`, '{"seconds": 0}');
      const firstPid = (first.json as Json).pid;
      const slow = await post(`${server.url}/score`, '{"seconds": 30}');
      assert.equal(slow.status, 504);
      assert.equal((slow.json as Json).code, 'SCORING_TIMEOUT');
      assert.match(String((slow.json as Json).message), /300 ms/);
      await server.waitForLog((l) => l.msg === 'worker ready' && l.pid !== firstPid);
      const after = await post(`${server.url}/score`, '{"seconds": 0}');
      assert.equal(after.status, 200);
      assert.notEqual((after.json as Json).pid, firstPid);
    } finally {
      await server.stop();
    }
  });

  test('a worker dying mid-request (os._exit, SIGKILL, segfault): 502 naming how, it restarts, the other worker keeps serving', async () => {
    const server = await startServe(['--entry-script', fixture('exit_score.py'), '--worker-count', '2']);
    try {
      const cases: Array<[string, RegExp]> = [['exit', /exited with code 7/], ['kill', /signal SIGKILL/], ['segv', /signal SIGSEGV/]];
      for (const [how, expected] of cases) {
        const res = await post(`${server.url}/score`, JSON.stringify({ how }));
        assert.equal(res.status, 502, `${how}: ${res.text}`);
        assert.equal((res.json as Json).code, 'WORKER_DIED');
        assert.match(String((res.json as Json).message), expected);
        // The surviving worker answers at once, while the dead one restarts.
        const ok = await post(`${server.url}/score`, '{"how": "pid"}');
        assert.equal(ok.status, 200);
        await waitUntilReady(server.url);
      }
      const restarts = await get(`${server.url}/metrics`);
      assert.match(restarts.text, /berth_worker_restarts_total\{reason="signal"\} 2/);
      assert.match(restarts.text, /berth_worker_restarts_total\{reason="exit"\} 1/);
    } finally {
      await server.stop();
    }
  });

  test('a request waiting behind one that times out never ran: it is served by the replacement worker, not failed', async () => {
    const server = await startServe(['--entry-script', fixture('sleep_score.py'), '--scoring-timeout-ms', '400', '--max-queue-wait-ms', '5000']);
    try {
      const firstPid = ((await post(`${server.url}/score`, '{"seconds": 0}')).json as Json).pid;
      const slow = post(`${server.url}/score`, '{"seconds": 30}');
      await waitForBusy(server.url);
      const waiting = await post(`${server.url}/score`, '{"seconds": 0}');
      assert.equal((await slow).status, 504);
      assert.equal(waiting.status, 200, waiting.text);
      assert.notEqual((waiting.json as Json).pid, firstPid, 'answered by the new worker');
    } finally {
      await server.stop();
    }
  });

  test('requests sent ahead to a fast worker that dies are run by its replacement, in arrival order', async () => {
    const server = await startServe(['--entry-script', fixture('order_score.py'), '--max-queue-wait-ms', '10000']);
    try {
      // Back-to-back short runs: the worker is then sent several requests ahead (how many depends on the machine).
      for (let round = 0; round < 20; round++) {
        const burst = await Promise.all(Array.from({ length: 10 }, () => post(`${server.url}/score`, '{}')));
        assert.ok(burst.every((r) => r.status === 200));
      }
      // It dies when released, after every check below: however slow the machine, the others are held by then.
      const death = gate();
      const dying = post(`${server.url}/score`, JSON.stringify({ die_when: death.path }));
      await waitForHeld(server.url, 1);
      const tags = ['a', 'b', 'c', 'd'];
      const waiting: Array<ReturnType<typeof post>> = [];
      for (const [i, tag] of tags.entries()) {
        waiting.push(post(`${server.url}/score`, JSON.stringify({ tag })));
        await waitForHeld(server.url, i + 2); // it arrived (in the worker's pipe or the queue) before the next is sent
      }
      const ready = (await get(`${server.url}/ready`)).json as { workers: Array<{ in_flight: number }> };
      assert.ok((ready.workers[0]?.in_flight ?? 0) >= 2, 'at least one was sent ahead');
      death.release();
      assert.equal((await dying).status, 502);
      const answers = (await Promise.all(waiting)).map((r) => { assert.equal(r.status, 200, r.text); return r.json as Json; });
      assert.deepEqual(answers.map((a) => a.tag), tags);
      assert.deepEqual(answers.map((a) => a.call), [1, 2, 3, 4], 'the replacement ran them first, in the order they came');
    } finally {
      await server.stop();
    }
  });

  test('two workers serve two requests at once, each worker calling init() once', async () => {
    const server = await startServe(['--entry-script', fixture('sleep_score.py'), '--worker-count', '2']);
    try {
      // Both are held until both workers are seen busy at once; only then released.
      const held = gate();
      const request = () => post(`${server.url}/score`, JSON.stringify({ until_file: held.path }));
      const both = Promise.all([request(), request()]);
      await untilReady(server.url, (body) => body.workers.filter((w) => w.busy).length === 2, 'both workers busy');
      held.release();
      const [a, b] = await both;
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.notEqual((a.json as Json).pid, (b.json as Json).pid);
      assert.equal(server.logs.filter((l) => l.msg === 'worker ready').length, 2);
    } finally {
      await server.stop();
    }
  });

  test('a request that waits longer than --max-queue-wait-ms gets 503 with Retry-After', async () => {
    const server = await startServe(['--entry-script', fixture('sleep_score.py'), '--max-queue-wait-ms', '100']);
    try {
      const held = gate();
      const busy = post(`${server.url}/score`, JSON.stringify({ until_file: held.path }));
      await waitForBusy(server.url);
      let busyDone = false;
      void busy.then(() => { busyDone = true; });
      const rejected = await post(`${server.url}/score`, '{"seconds": 0}');
      assert.equal(rejected.status, 503);
      assert.equal(busyDone, false, 'the 503 comes when the wait limit passes, not when the busy request ends');
      assert.equal((rejected.json as Json).code, 'OVERLOADED');
      assert.ok(rejected.headers.get('retry-after'));
      held.release();
      assert.equal((await busy).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('SIGTERM: in-flight requests finish, new connections are refused, exit code 0', async () => {
    const server = await startServe(['--entry-script', fixture('sleep_score.py')]);
    // The request is held until the server has begun shutting down, so it is surely in flight through the drain.
    const held = gate();
    const inFlight = post(`${server.url}/score`, JSON.stringify({ until_file: held.path }));
    await waitForBusy(server.url);
    const stopped = server.stop('SIGTERM');
    await server.waitForLog((l) => l.msg === 'shutting down: finishing in-flight requests');
    held.release();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual((await stopped), { code: 0, signal: null });
    await assert.rejects(fetch(`${server.url}/`, { signal: AbortSignal.timeout(2000) }));
  });
});

function waitUntilReady(url: string): Promise<void> {
  return untilReady(url, (_, status) => status === 200, 'the server ready again');
}

/** Until the server holds `count` requests: in its one worker (running or waiting in its pipe) and in its queue. */
function waitForHeld(url: string, count: number): Promise<void> {
  return untilReady(url, (body) => (body.workers[0]?.in_flight ?? 0) + body.queued === count, `the server holding ${count} requests`);
}

function waitForBusy(url: string): Promise<void> {
  return untilReady(url, (body) => body.workers.some((w) => w.busy), 'a worker busy');
}
