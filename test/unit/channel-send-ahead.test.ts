// The scoring channel's send-ahead, both ends for real (the gateway's ReplicaChannel and a replica's channel server,
// scoring and worker pool) with a worker the test finishes by hand: STARTED before the worker gets a request, cancel,
// expiry, a dropped connection, draining, and a replica without the addition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { ReplicaChannel, type ChannelOutcome } from '../../src/gateway/channel.js';
import { attachScoreChannel } from '../../src/inference/channel/channel-server.js';
import { Responder } from '../../src/inference/http/respond.js';
import { Scoring } from '../../src/inference/http/scoring.js';
import { WorkerPool } from '../../src/inference/pool/worker-pool.js';
import type { ServeSettings } from '../../src/inference/settings.js';
import type { ScoreOutcome, ScoreRequest, Worker, WorkerPhase } from '../../src/inference/runtime/types.js';

const log = pino({ level: 'silent' });

/** One worker, slow as far as the pool knows (one ahead in its pipe at most); the test finishes its requests. */
class HeldWorker implements Worker {
  readonly id = 1;
  readonly capacity = 1;
  prefetch = 1;
  phase: WorkerPhase = 'starting';
  readonly received: string[] = [];
  private readonly pending: Array<{ body: string; done: (o: ScoreOutcome) => void }> = [];
  get inFlight(): number { return this.pending.length; }
  async start(): Promise<void> { this.phase = 'ready'; }
  execute(r: ScoreRequest, _timeoutMs: number, done: (o: ScoreOutcome) => void): void {
    this.received.push(r.body.toString());
    this.pending.push({ body: r.body.toString(), done });
  }
  /** Answers the oldest request it holds with its own body. */
  finish(): void {
    const p = this.pending.shift();
    p?.done({ kind: 'ok', status: 200, headers: {}, body: Buffer.from(p.body), workerId: 1, execMs: 1 });
  }
  async stop(): Promise<void> { this.phase = 'stopped'; }
  onExit(): void {}
}

interface Replica {
  readonly url: string;
  readonly worker: HeldWorker;
  readonly pool: WorkerPool;
  /** The replica's side of each channel connection, to break one as a dying replica would. */
  readonly sockets: Socket[];
  draining: boolean;
  close(): Promise<void>;
}

async function replica(features?: readonly string[]): Promise<Replica> {
  const worker = new HeldWorker();
  const pool = new WorkerPool({ workerCount: 1, maxConcurrent: 1, maxQueueWaitMs: 10_000, scoringTimeoutMs: 10_000, createWorker: () => worker, logger: log });
  await pool.start();
  const settings = { maxRequestSizeMb: 1, debug: false, maxQueueWaitMs: 10_000 } as ServeSettings;
  const responder = new Responder(log, [], () => undefined);
  const state = { draining: false };
  const scoring = new Scoring({ settings, pool, responder, log, isDraining: () => state.draining });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const sockets: Socket[] = [];
  server.on('upgrade', (_req, socket: Socket) => sockets.push(socket));
  attachScoreChannel(server, { scoring, responder, log, replicaKey: undefined, isDraining: () => state.draining, ...(features === undefined ? {} : { features }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, worker, pool, sockets,
    get draining() { return state.draining; },
    set draining(v: boolean) { state.draining = v; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Sent {
  readonly id: number;
  readonly outcome: Promise<ChannelOutcome>;
  readonly started: () => boolean;
}

function send(c: ReplicaChannel, body: string, budgetMs?: number): Sent {
  let started = false;
  let id = 0;
  const outcome = new Promise<ChannelOutcome>((resolve) => {
    id = c.send('POST', '/score', ['content-type', 'application/json'], Buffer.from(body), 10_000, resolve, budgetMs === undefined ? undefined : { budgetMs, started: () => { started = true; } });
  });
  return { id, outcome, started: () => started };
}

const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (check()) return;
    await turn();
  }
  assert.fail(`${what}: not within 5 s`);
}

const kind = (o: ChannelOutcome): string => (o.ok ? `${o.status} ${o.body.toString()}` : o.kind);

test('a request sent ahead waits in the replica, hears STARTED when the worker takes it, then its answer', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const a = send(c, 'A');
  await until(() => r.worker.received.length === 1, 'A running');
  assert.equal(c.sendsAhead, true, 'the replica took send-ahead');
  const b = send(c, 'B', 5000);
  await until(() => r.pool.queued === 1, 'B waiting in the replica');
  assert.equal(b.started(), false);
  assert.deepEqual(r.worker.received, ['A'], 'a slow worker does not get B in its pipe: B can still go elsewhere');
  r.worker.finish();
  assert.equal(kind(await a.outcome), '200 A');
  await until(() => b.started(), 'B started');
  r.worker.finish();
  assert.equal(kind(await b.outcome), '200 B');
});

test('cancel gives a waiting request back unstarted; once started it is answered as usual', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const a = send(c, 'A');
  await until(() => r.worker.received.length === 1, 'A running');
  const b = send(c, 'B', 5000);
  await until(() => r.pool.queued === 1, 'B waiting');
  c.cancel(b.id);
  assert.equal(kind(await b.outcome), 'not_started');
  assert.equal(r.pool.queued, 0);
  c.cancel(a.id); // A runs: the cancel changes nothing
  r.worker.finish();
  assert.equal(kind(await a.outcome), '200 A');
  assert.deepEqual(r.worker.received, ['A'], 'B never reached the worker');
});

test('a request whose budget runs out in the replica is answered expired, unstarted', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  send(c, 'A');
  await until(() => r.worker.received.length === 1, 'A running');
  const before = performance.now();
  const b = send(c, 'B', 100);
  assert.equal(kind(await b.outcome), 'expired');
  assert.ok(performance.now() - before >= 95, 'not before its budget');
  r.worker.finish();
  await turn();
  assert.deepEqual(r.worker.received, ['A']);
});

test('the connection breaking: the running request failed, the waiting one never started, and the replica drops it', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const a = send(c, 'A');
  await until(() => r.worker.received.length === 1, 'A running');
  const b = send(c, 'B', 5000);
  await until(() => r.pool.queued === 1, 'B waiting');
  r.sockets[0]!.destroy();
  assert.deepEqual([kind(await a.outcome), kind(await b.outcome)], ['failed', 'not_started']);
  await until(() => r.pool.queued === 0, 'B dropped by the replica');
  r.worker.finish();
  await turn();
  assert.deepEqual(r.worker.received, ['A'], 'B never ran there: it may run elsewhere');
});

test('a draining replica gives new requests back unstarted', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const a = send(c, 'A');
  await until(() => r.worker.received.length === 1, 'A running');
  r.draining = true;
  assert.equal(kind(await send(c, 'B', 5000).outcome), 'not_started');
  r.worker.finish();
  assert.equal(kind(await a.outcome), '200 A');
});

test('a replica without send-ahead: plain berth-score-1 frames, nothing sent ahead, answers as before', async (t) => {
  const r = await replica([]);
  t.after(() => r.close());
  const c = new ReplicaChannel(r.url);
  t.after(() => c.close());
  const a = send(c, 'A');
  await until(() => r.worker.received.length === 1, 'A running');
  assert.equal(c.sendsAhead, false);
  // Asked to send ahead anyway, the channel sends a plain request: the replica queues it by its own rule.
  const b = send(c, 'B', 5000);
  await until(() => r.worker.received.length === 2, 'B in the worker\'s pipe, as berth serve sends ahead to its workers');
  r.worker.finish();
  r.worker.finish();
  assert.deepEqual([kind(await a.outcome), kind(await b.outcome)], ['200 A', '200 B']);
  assert.equal(b.started(), false, 'no notices from an older replica');
});

test('one STARTED notice says that a request and every earlier one sent ahead has started', async (t) => {
  const r = await replica();
  t.after(() => r.close());
  r.worker.prefetch = 4; // a fast worker: requests sent ahead go into its pipe
  // A bare client speaking the protocol, to see the frames themselves.
  const { connect } = await import('node:net');
  const { CHANNEL_PATH, CHANNEL_PROTOCOL, FEATURES_HEADER, SEND_AHEAD, FrameReader, encodeFrame, joinMeta } = await import('../../src/inference/channel/frames.js');
  const url = new URL(r.url);
  const socket = connect(Number(url.port), url.hostname);
  t.after(() => socket.destroy());
  const frames: Array<[number, string]> = [];
  const reader = new FrameReader((id, meta) => frames.push([id, meta[0]!]));
  let upgraded = false;
  let head = '';
  socket.on('data', (chunk: Buffer) => {
    if (upgraded) return reader.push(chunk);
    head += chunk.toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    upgraded = true;
    assert.match(head, new RegExp(`${FEATURES_HEADER}: ${SEND_AHEAD}`, 'i'));
    const rest = Buffer.from(head.slice(end + 4), 'latin1');
    if (rest.length > 0) reader.push(rest);
  });
  socket.write(`GET ${CHANNEL_PATH} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n${FEATURES_HEADER}: ${SEND_AHEAD}\r\n\r\n`);
  await until(() => upgraded, 'the upgrade');
  const req = (id: number, budget: string, body: string): Buffer => encodeFrame(id, joinMeta(['POST', '/score', budget, 'content-type', 'application/json']), body);
  socket.write(req(1, '', 'A'));
  await until(() => r.worker.received.length === 1, 'A running');
  // Three sent ahead in one write: the worker takes them in one turn, and one notice covers them all.
  socket.write(Buffer.concat([req(2, '5000', 'B'), req(3, '5000', 'C'), req(4, '5000', 'D')]));
  await until(() => r.worker.received.length === 4, 'B, C and D in the worker\'s pipe');
  await until(() => frames.some(([, word]) => word === 'STARTED'), 'the notice');
  assert.deepEqual(frames.filter(([, word]) => word === 'STARTED'), [[4, 'STARTED']]);
  for (let i = 0; i < 4; i++) r.worker.finish();
  await until(() => frames.filter(([, word]) => word === '200').length === 4, 'the answers');
});
