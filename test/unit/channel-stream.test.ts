// The scoring channel's stream addition, both ends for real (the gateway's ReplicaChannel and a replica's channel
// server, scoring and pool) with a worker whose stream the test drives: chunks as frames, PAUSE/RESUME from the
// gateway's back-pressure, CANCEL when the body is dropped, a broken connection, and a replica without the addition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { ReplicaChannel, type ChannelOutcome } from '../../src/gateway/channel.js';
import { StreamAborted } from '../../src/gateway/channel-stream.js';
import { attachScoreChannel } from '../../src/inference/channel/channel-server.js';
import { SEND_AHEAD } from '../../src/inference/channel/frames.js';
import { Responder } from '../../src/inference/http/respond.js';
import { Scoring } from '../../src/inference/http/scoring.js';
import { WorkerPool } from '../../src/inference/pool/worker-pool.js';
import type { ServeSettings } from '../../src/inference/settings.js';
import { ResponseStream } from '../../src/inference/runtime/response-stream.js';
import type { ScoreOutcome, ScoreRequest, Worker, WorkerPhase } from '../../src/inference/runtime/types.js';

const log = pino({ level: 'silent' });

/** One worker whose request the test turns into a stream, and the calls its producer got. */
class StreamingWorker implements Worker {
  readonly id = 1;
  readonly capacity = 1;
  readonly prefetch = 0;
  phase: WorkerPhase = 'starting';
  readonly calls: string[] = [];
  stream: ResponseStream | undefined;
  private done: ((o: ScoreOutcome) => void) | undefined;
  get inFlight(): number { return this.done === undefined && this.stream === undefined ? 0 : 1; }
  async start(): Promise<void> { this.phase = 'ready'; }
  execute(_r: ScoreRequest, _timeoutMs: number, done: (o: ScoreOutcome) => void): void { this.done = done; }
  /** The first chunk: the response begins. */
  begin(first: string): ResponseStream {
    const stream = new ResponseStream('text', {
      pause: () => this.calls.push('pause'),
      resume: () => this.calls.push('resume'),
      cancel: () => this.calls.push('cancel'),
    });
    this.stream = stream;
    stream.push(Buffer.from(first));
    this.done!({ kind: 'stream', status: 200, headers: {}, stream, workerId: 1, execMs: 1 });
    this.done = undefined;
    return stream;
  }
  async stop(): Promise<void> { this.phase = 'stopped'; }
  onExit(): void {}
}

async function replica(features?: readonly string[]): Promise<{ url: string; worker: StreamingWorker; sockets: Socket[]; close: () => Promise<void> }> {
  const worker = new StreamingWorker();
  const pool = new WorkerPool({ workerCount: 1, maxConcurrent: 1, maxQueueWaitMs: 10_000, scoringTimeoutMs: 10_000, createWorker: () => worker, logger: log });
  await pool.start();
  const settings = { maxRequestSizeMb: 1, debug: false, maxQueueWaitMs: 10_000 } as ServeSettings;
  const responder = new Responder(log, [], () => undefined);
  const scoring = new Scoring({ settings, pool, responder, log, isDraining: () => false });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const sockets: Socket[] = [];
  server.on('upgrade', (_req, socket: Socket) => sockets.push(socket));
  attachScoreChannel(server, { scoring, responder, log, replicaKey: undefined, isDraining: () => false, ...(features === undefined ? {} : { features }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, worker, sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function send(c: ReplicaChannel, accept?: string): Promise<ChannelOutcome> {
  return new Promise((resolve) => {
    c.send('POST', '/score', ['x-request-id', 'r1', ...(accept === undefined ? [] : ['accept', accept])], Buffer.from('{}'), 10_000, resolve);
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what}: not within 5 s`);
}

async function readAll(body: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const c of body) text += (c as Buffer).toString();
  return text;
}

test('a streamed response comes as a body stream at its first chunk; later chunks follow, then its end', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const outcome = send(c);
  await until(() => r.worker.inFlight === 1, 'running');
  const stream = r.worker.begin('one\n');
  const o = await outcome;
  assert.ok(o.ok && o.stream !== undefined, 'a stream');
  assert.equal(o.status, 200);
  assert.ok(o.headers.includes('text/plain; charset=utf-8'));
  stream.push(Buffer.from('two\n'));
  stream.finish();
  assert.equal(await readAll(o.stream), 'one\ntwo\n');
});

test('back-pressure: an unread body makes the replica pause its producer, reading it resumes; dropping it cancels', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const outcome = send(c);
  await until(() => r.worker.inFlight === 1, 'running');
  const stream = r.worker.begin('x');
  const o = await outcome;
  assert.ok(o.ok && o.stream !== undefined);
  const big = Buffer.alloc(64 * 1024, 97);
  stream.push(big);
  await until(() => r.worker.calls.includes('pause'), 'PAUSE reached the producer');
  o.stream.resume();
  await until(() => r.worker.calls.includes('resume'), 'RESUME reached the producer');
  o.stream.destroy();
  await until(() => r.worker.calls.includes('cancel'), 'CANCEL reached the producer');
});

test('SSE through the channel: the error of a failed stream is an error event, and the body ends well-formed', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const outcome = send(c, 'text/event-stream');
  await until(() => r.worker.inFlight === 1, 'running');
  const stream = r.worker.begin('hello');
  const o = await outcome;
  assert.ok(o.ok && o.stream !== undefined);
  stream.fail({ kind: 'timeout', timeoutMs: 5, which: 'next' });
  const text = await readAll(o.stream);
  assert.match(text, /^data: hello\n\nevent: error\ndata: \{"message":"the stream stopped/);
  assert.match(text, /"code":"STREAM_CHUNK_TIMEOUT"/);
});

test('chunked: a failed stream or a broken connection destroys the body with the coded error', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const first = send(c);
  await until(() => r.worker.inFlight === 1, 'running');
  const stream = r.worker.begin('a');
  const o = await first;
  assert.ok(o.ok && o.stream !== undefined);
  stream.fail({ kind: 'run_error', exception: 'ValueError', message: 'm', traceback: '' });
  await assert.rejects(readAll(o.stream), (err: unknown) => err instanceof StreamAborted && err.errorJson.includes('RUN_FAILED'));

  r.worker.stream = undefined;
  const second = send(c);
  await until(() => r.worker.inFlight === 1, 'running again');
  r.worker.begin('b');
  const o2 = await second;
  assert.ok(o2.ok && o2.stream !== undefined);
  for (const s of r.sockets) s.destroy();
  await assert.rejects(readAll(o2.stream), (err: unknown) => err instanceof StreamAborted && err.errorJson.includes('STREAM_BROKEN'));
  await until(() => r.worker.calls.includes('cancel'), 'the replica stopped the generator of the stream it lost');
});

test('a replica that offers only send-ahead (no stream): the response is collected and comes whole', async (t) => {
  const r = await replica([SEND_AHEAD]);
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const outcome = send(c);
  await until(() => r.worker.inFlight === 1, 'running');
  const stream = r.worker.begin('one\n');
  stream.push(Buffer.from('two\n'));
  stream.finish();
  const o = await outcome;
  assert.ok(o.ok);
  assert.equal(o.stream, undefined);
  assert.equal(o.body.toString(), 'one\ntwo\n');
  assert.equal(c.sendsAhead, true);
});
