// The scoring channel: its framing survives any chunking, and the gateway's ReplicaChannel against fake replicas
// (node:http servers that upgrade and answer frames): matching by id, refused/unsupported/failed/timeout, close().
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CHANNEL_PATH, CHANNEL_PROTOCOL, FRAME_PREFIX, FrameReader, encodeFrame, joinMeta } from '../../src/inference/channel/frames.js';
import { ReplicaChannel, type ChannelOutcome } from '../../src/gateway/channel.js';

// ---- framing ----

type Seen = [id: number, meta: string[], body: string];

function readAll(chunks: readonly Buffer[]): Seen[] {
  const seen: Seen[] = [];
  const reader = new FrameReader((id, meta, body) => seen.push([id, meta, body.toString('utf8')]));
  for (const c of chunks) reader.push(c);
  return seen;
}

const frameA = encodeFrame(7, joinMeta(['POST', '/score?x=1', 'content-type', 'application/json']), '{"a":[1,2,3]}');
const frameB = encodeFrame(0xfffffffe, joinMeta(['200', 'x-note', 'ünïcødé ✓ 日本語']), 'réponse ✓');
const expectA: Seen = [7, ['POST', '/score?x=1', 'content-type', 'application/json'], '{"a":[1,2,3]}'];
const expectB: Seen = [0xfffffffe, ['200', 'x-note', 'ünïcødé ✓ 日本語'], 'réponse ✓'];

test('encodeFrame writes little-endian length (of what follows it), id and meta byte length, then meta and body', () => {
  const meta = joinMeta(['200', 'x', 'é']); // 'é' is two bytes: the meta length counts bytes, not characters
  const frame = encodeFrame(0x01020304, meta, Buffer.from([0, 255, 10]));
  assert.equal(frame.length, FRAME_PREFIX + Buffer.byteLength(meta) + 3);
  assert.equal(frame.readUInt32LE(0), frame.length - 4);
  assert.equal(frame.readUInt32LE(4), 0x01020304);
  assert.equal(frame.readUInt32LE(8), Buffer.byteLength(meta));
  assert.equal(frame.readUInt32LE(8), meta.length + 1);
  assert.equal(frame.subarray(FRAME_PREFIX, FRAME_PREFIX + Buffer.byteLength(meta)).toString('utf8'), '200\nx\né');
  assert.deepEqual([...frame.subarray(FRAME_PREFIX + Buffer.byteLength(meta))], [0, 255, 10]);
});

test('FrameReader: two frames in one chunk give both, in order', () => {
  assert.deepEqual(readAll([Buffer.concat([frameA, frameB])]), [expectA, expectB]);
});

test('FrameReader: bytes fed one at a time give the same frames', () => {
  const stream = Buffer.concat([frameA, frameB]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  assert.deepEqual(readAll(chunks), [expectA, expectB]);
});

test('FrameReader: a two-frame stream split in two at every byte boundary gives the same frames', () => {
  const stream = Buffer.concat([frameA, frameB]);
  for (let i = 0; i <= stream.length; i++) {
    assert.deepEqual(readAll([stream.subarray(0, i), stream.subarray(i)]), [expectA, expectB], `split at ${i}`);
  }
});

test('FrameReader: a frame split across 3 chunks at every pair of boundaries (including inside a UTF-8 character) gives the same frame', () => {
  for (let i = 1; i < frameB.length; i++) {
    for (let j = i + 1; j < frameB.length; j++) {
      const got = readAll([frameB.subarray(0, i), frameB.subarray(i, j), frameB.subarray(j)]);
      assert.deepEqual(got, [expectB], `split at ${i} and ${j}`);
    }
  }
});

test('FrameReader: the tail of a frame and the head of the next one in the same chunk', () => {
  const stream = Buffer.concat([frameA, frameB, frameA]);
  // Chunks of 5 bytes never line up with frame edges for these lengths.
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 5) chunks.push(stream.subarray(i, i + 5));
  assert.deepEqual(readAll(chunks), [expectA, expectB, expectA]);
});

test('FrameReader: an empty body comes through as an empty buffer, and the frame after it is intact', () => {
  const empty = encodeFrame(3, joinMeta(['204']), Buffer.alloc(0));
  assert.equal(empty.readUInt32LE(0), 8 + 3);
  const bodies: Buffer[] = [];
  const seen: Array<[number, string[]]> = [];
  const reader = new FrameReader((id, meta, body) => {
    seen.push([id, meta]);
    bodies.push(body);
  });
  const stream = Buffer.concat([empty, frameA]);
  for (let i = 0; i < stream.length; i++) reader.push(stream.subarray(i, i + 1));
  assert.deepEqual(seen, [[3, ['204']], [7, expectA[1]]]);
  assert.equal(bodies[0]!.length, 0);
  assert.equal(bodies[1]!.toString(), expectA[2]);
});

test('FrameReader: a UTF-8 meta field and a binary body keep their exact bytes', () => {
  const body = Buffer.from([0xff, 0x00, 0x0a, 0xc3, 0x28, 0xe2]); // not valid UTF-8, and contains '\n'
  const frame = encodeFrame(9, joinMeta(['200', 'x-name', 'Zoë 🚀 naïve', 'x-empty', '']), body);
  const got: Array<[number, string[], Buffer]> = [];
  const reader = new FrameReader((id, meta, b) => got.push([id, meta, Buffer.from(b)]));
  reader.push(frame.subarray(0, 20));
  reader.push(frame.subarray(20));
  assert.equal(got.length, 1);
  assert.equal(got[0]![0], 9);
  assert.deepEqual(got[0]![1], ['200', 'x-name', 'Zoë 🚀 naïve', 'x-empty', '']);
  assert.ok(got[0]![2].equals(body));
});

test('FrameReader: a length under 8 (no room for id and meta length) throws', () => {
  for (const length of [0, 1, 7]) {
    const bad = Buffer.alloc(4 + 8);
    bad.writeUInt32LE(length, 0);
    const reader = new FrameReader(() => assert.fail('no frame expected'));
    assert.throws(() => reader.push(bad), /bad frame length/, `length ${length}`);
  }
  // Even when the length arrives a byte at a time.
  const bad = Buffer.alloc(16);
  bad.writeUInt32LE(3, 0);
  const reader = new FrameReader(() => assert.fail('no frame expected'));
  assert.throws(() => {
    for (let i = 0; i < bad.length; i++) reader.push(bad.subarray(i, i + 1));
  }, /bad frame length 3/);
});

test('FrameReader: a length over maxFrameBytes, and a meta length past the frame, throw', () => {
  const big = encodeFrame(1, 'm', Buffer.alloc(200));
  assert.throws(() => new FrameReader(() => assert.fail('no frame expected'), 100).push(big), /bad frame length/);
  const frame = encodeFrame(1, 'meta', 'body');
  frame.writeUInt32LE(1000, 8);
  assert.throws(() => new FrameReader(() => assert.fail('no frame expected')).push(frame), /bad meta length 1000/);
});

test('FrameReader: a length over maxFrameBytes is refused as soon as its 4 bytes are in, even split across chunks (nothing is buffered for it)', () => {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(0x7ffffff0, 0);
  const reader = new FrameReader(() => assert.fail('no frame expected'), 1024);
  reader.push(head.subarray(0, 2));
  assert.throws(() => reader.push(head.subarray(2)), /bad frame length 2147483632/);
});

test('joinMeta joins with line breaks and refuses a field containing one', () => {
  assert.equal(joinMeta(['GET', '/score', 'a', 'b']), 'GET\n/score\na\nb');
  assert.throws(() => joinMeta(['GET', '/score', 'x-evil', 'one\ntwo']), /line break/);
  assert.throws(() => joinMeta(['\n']), /line break/);
});

// ---- ReplicaChannel against fake replicas ----

const SWITCH = `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n\r\n`;

interface Frame {
  readonly id: number;
  readonly meta: string[];
  readonly body: Buffer;
}

interface Conn {
  readonly socket: Socket;
  readonly req: IncomingMessage;
  /** Set once the gateway has closed its end (the replica saw 'end' or 'close'). */
  readonly gone: Promise<void>;
  /** Answers request `id` with `status`, header list and body. */
  reply(id: number, status: number, headers: readonly string[], body: Buffer | string): void;
}

interface Fake {
  readonly url: string;
  /** Upgrades this replica accepted (one per channel connection). */
  readonly conns: Conn[];
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
const channels: ReplicaChannel[] = [];

after(async () => {
  for (const c of channels) c.close();
  for (const s of sockets) s.destroy();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A replica that speaks the channel: accepts the upgrade and hands every frame to `onFrame`. */
async function fakeReplica(onFrame: (frame: Frame, conn: Conn) => void): Promise<Fake> {
  const conns: Conn[] = [];
  const server = createServer((_req, res) => res.writeHead(500).end());
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    assert.equal(req.url, CHANNEL_PATH);
    assert.equal(req.headers.upgrade, CHANNEL_PROTOCOL);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(SWITCH);
    // node:http servers are allowHalfOpen: an upgraded socket gets 'end' when the peer hangs up, but no 'close' of its own.
    const gone = new Promise<void>((r) => {
      socket.once('end', () => r());
      socket.once('close', () => r());
    });
    const conn: Conn = {
      socket,
      req,
      gone,
      reply: (id, status, headers, body) => {
        if (!socket.destroyed) socket.write(encodeFrame(id, joinMeta([String(status), ...headers]), body));
      },
    };
    conns.push(conn);
    // Copy the body: a test may keep it past the chunk it came in.
    const reader = new FrameReader((id, meta, body) => onFrame({ id, meta, body: Buffer.from(body) }, conn));
    if (head.length > 0) reader.push(head);
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  });
  return { url: await listen(server), conns };
}

/** An echoing replica: status 200, the request's method/target/headers back as headers, the body back as it came. */
function echo(frame: Frame, conn: Conn): void {
  const [method = '', target = '', ...headers] = frame.meta;
  conn.reply(frame.id, 200, ['x-method', method, 'x-target', target, ...headers], frame.body);
}

function channel(url: string): ReplicaChannel {
  const c = new ReplicaChannel(url);
  channels.push(c);
  return c;
}

/** One request; resolves with its outcome and fails the test if `done` is ever called a second time. */
function send(c: ReplicaChannel, body: Buffer | string, opts: { method?: string; target?: string; headers?: readonly string[]; timeoutMs?: number } = {}): Promise<ChannelOutcome> {
  return new Promise((resolve) => {
    let calls = 0;
    c.send(opts.method ?? 'POST', opts.target ?? '/score', opts.headers ?? [], typeof body === 'string' ? Buffer.from(body) : body, opts.timeoutMs ?? 10_000, (outcome) => {
      calls += 1;
      if (calls > 1) assert.fail(`done called ${calls} times; last with ${JSON.stringify(outcome)}`);
      resolve(outcome);
    });
  });
}

function ok(o: ChannelOutcome): Extract<ChannelOutcome, { ok: true }> {
  if (!o.ok) assert.fail(`expected an answer, got ${o.kind}: ${o.detail}`);
  return o;
}

function failure(o: ChannelOutcome): Extract<ChannelOutcome, { ok: false }> {
  if (o.ok) assert.fail(`expected a failure, got status ${o.status} with body ${o.body.toString()}`);
  return o;
}

/** A URL nothing listens on: a server that was started and closed again. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  await new Promise((r) => s.close(r));
  return url;
}

/** Resolves once `check` holds, polling every few ms; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('channel: many concurrent requests share one connection and each gets its own answer, even answered in reverse order', async () => {
  const n = 40;
  const held: Array<[Frame, Conn]> = [];
  const fake = await fakeReplica((frame, conn) => {
    held.push([frame, conn]);
    if (held.length < n) return;
    // Everything arrived: answer newest first, each with a status and headers of its own.
    for (const [f, c] of held.reverse()) {
      const k = f.meta[f.meta.indexOf('x-k') + 1]!;
      c.reply(f.id, 200 + Number(k), ['content-type', 'application/json', 'x-k', k, 'x-target', f.meta[1]!], Buffer.concat([Buffer.from(`k=${k};`), f.body]));
    }
  });
  const c = channel(fake.url);
  const bodies = Array.from({ length: n }, (_, k) => Buffer.concat([Buffer.from(`{"row":${k}}`), Buffer.from([0, 0xff, 0x0a, k])]));
  const outcomes = await Promise.all(bodies.map((b, k) => send(c, b, { target: `/score?k=${k}`, headers: ['x-k', String(k), 'x-request-id', `r-${k}`] })));
  assert.equal(fake.conns.length, 1, 'all requests went over one upgraded connection');
  outcomes.forEach((o, k) => {
    const a = ok(o);
    assert.equal(a.status, 200 + k);
    assert.deepEqual(a.headers, ['content-type', 'application/json', 'x-k', String(k), 'x-target', `/score?k=${k}`]);
    assert.ok(a.body.equals(Buffer.concat([Buffer.from(`k=${k};`), bodies[k]!])), `body of request ${k}: ${a.body.toString('hex')}`);
  });
  // What the replica saw: method, target, then the header list as sent.
  const seen = held.find(([f]) => f.meta[1] === '/score?k=3')![0];
  assert.deepEqual(seen.meta, ['POST', '/score?k=3', 'x-k', '3', 'x-request-id', 'r-3']);
  assert.equal(new Set(held.map(([f]) => f.id)).size, n, 'every request in flight had its own id');
});

test('channel: a large body and an empty one round-trip, and a GET with a query comes through', async () => {
  const fake = await fakeReplica(echo);
  const c = channel(fake.url);
  const large = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < large.length; i++) large[i] = (i * 31) & 0xff;
  const [big, empty, get] = await Promise.all([
    send(c, large, { headers: ['content-type', 'application/octet-stream'] }),
    send(c, Buffer.alloc(0)),
    send(c, '', { method: 'GET', target: '/score?name=Zo%C3%AB&n=2', headers: ['accept', 'application/json', 'x-note', 'naïve ✓'] }),
  ]);
  assert.ok(ok(big).body.equals(large));
  assert.deepEqual(ok(big).headers, ['x-method', 'POST', 'x-target', '/score', 'content-type', 'application/octet-stream']);
  assert.equal(ok(empty).body.length, 0);
  assert.equal(ok(empty).status, 200);
  assert.deepEqual(ok(get).headers, ['x-method', 'GET', 'x-target', '/score?name=Zo%C3%AB&n=2', 'accept', 'application/json', 'x-note', 'naïve ✓']);
  assert.equal(fake.conns.length, 1);
});

test('channel: a header value with a line break is refused before anything is sent, and the channel still works', async () => {
  const fake = await fakeReplica(echo);
  const c = channel(fake.url);
  const bad = failure(await send(c, 'x', { headers: ['x-evil', 'a\nb'] }));
  assert.equal(bad.kind, 'failed');
  assert.match(bad.detail, /line break/);
  assert.equal(fake.conns.length, 0, 'no connection was opened for a request that could not be framed');
  assert.equal(ok(await send(c, 'fine')).body.toString(), 'fine');
});

test('channel: a URL where nothing listens gives refused (with the error code), and the channel stays usable', async () => {
  const c = channel(await deadUrl());
  const outcomes = await Promise.all([send(c, 'a'), send(c, 'b')]);
  for (const o of outcomes) {
    const f = failure(o);
    assert.equal(f.kind, 'refused');
    assert.equal(f.code, 'ECONNREFUSED');
  }
  assert.equal(c.usable, true, 'a refused connection is not proof that the replica lacks the channel');
});

test('channel: a replica answering the upgrade with a plain HTTP 404 gives unsupported; usable turns false and it is not asked again', async () => {
  let attempts = 0;
  const server = createServer((_req, res) => res.writeHead(500).end());
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    attempts += 1;
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found');
  });
  const c = channel(await listen(server));
  assert.equal(c.usable, true);
  const [first, second] = await Promise.all([send(c, 'a'), send(c, 'b')]);
  assert.equal(failure(first).kind, 'unsupported');
  assert.match(failure(first).detail, /404/);
  assert.equal(failure(second).kind, 'unsupported');
  assert.equal(c.usable, false);
  const later = failure(await send(c, 'c'));
  assert.equal(later.kind, 'unsupported');
  assert.equal(attempts, 1, 'an unsupported replica is not asked to upgrade again');
});

test('channel: a replica without an upgrade handler (its request handler answers 404) gives unsupported', async () => {
  const server = createServer((req, res) => res.writeHead(req.url === CHANNEL_PATH ? 404 : 500).end());
  const c = channel(await listen(server));
  assert.equal(failure(await send(c, 'a')).kind, 'unsupported');
  assert.equal(c.usable, false);
});

test('channel: a replica that switches to some other protocol gives unsupported', async () => {
  const server = createServer((_req, res) => res.writeHead(500).end());
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  });
  const c = channel(await listen(server));
  const f = failure(await send(c, 'a'));
  assert.equal(f.kind, 'unsupported');
  assert.match(f.detail, /websocket/);
  assert.equal(c.usable, false);
});

test('channel: the replica dropping the connection with requests in flight fails them; the next request reconnects and succeeds', async () => {
  let dropped = false;
  const fake = await fakeReplica((frame, conn) => {
    if (frame.body.toString() === 'drop') {
      dropped = true;
      conn.socket.destroy();
    } else if (frame.body.toString() !== 'hold') echo(frame, conn);
  });
  const c = channel(fake.url);
  // One request the replica holds on to, then one that makes it drop the connection: both were in flight.
  const held = send(c, 'hold');
  await until(() => fake.conns.length === 1, 'the channel to open');
  const drop = send(c, 'drop');
  const [h, d] = await Promise.all([held, drop]);
  assert.ok(dropped);
  assert.equal(failure(h).kind, 'failed');
  assert.equal(failure(d).kind, 'failed');
  assert.equal(c.usable, true);
  const again = ok(await send(c, 'after'));
  assert.equal(again.status, 200);
  assert.equal(again.body.toString(), 'after');
  assert.equal(fake.conns.length, 2, 'a new connection was opened');
});

test('channel: a request the replica never answers times out after timeoutMs; a late answer goes nowhere and later requests still match', async () => {
  const held: Array<[Frame, Conn]> = [];
  const fake = await fakeReplica((frame, conn) => {
    if (frame.body.toString() === 'ignore') held.push([frame, conn]);
    else echo(frame, conn);
  });
  const c = channel(fake.url);
  const timeoutMs = 100;
  const started = performance.now();
  const t = failure(await send(c, 'ignore', { timeoutMs }));
  const elapsed = performance.now() - started;
  assert.equal(t.kind, 'timeout');
  assert.ok(elapsed >= timeoutMs - 1, `timed out after ${elapsed.toFixed(1)} ms, before ${timeoutMs} ms`);
  assert.ok(elapsed < timeoutMs + 2000, `timed out only after ${elapsed.toFixed(1)} ms`);
  // The replica answers the timed-out request now: the answer must not reach the next request.
  assert.equal(held.length, 1);
  const [frame, conn] = held[0]!;
  conn.reply(frame.id, 500, ['x-late', 'yes'], 'late');
  const next = ok(await send(c, 'fresh', { timeoutMs }));
  assert.equal(next.body.toString(), 'fresh');
  assert.deepEqual(next.headers.slice(0, 2), ['x-method', 'POST']);
  assert.equal(fake.conns.length, 1, 'a timeout does not drop the connection');
});

test('channel: with mixed traffic only the unanswered request times out', async () => {
  const fake = await fakeReplica((frame, conn) => {
    if (frame.body.toString() !== 'ignore') setTimeout(() => echo(frame, conn), 20);
  });
  const c = channel(fake.url);
  const [a, t, b] = await Promise.all([send(c, 'a', { timeoutMs: 200 }), send(c, 'ignore', { timeoutMs: 200 }), send(c, 'b', { timeoutMs: 200 })]);
  assert.equal(ok(a).body.toString(), 'a');
  assert.equal(failure(t).kind, 'timeout');
  assert.equal(ok(b).body.toString(), 'b');
});

test('channel: close() fails in-flight requests, closes the connection, and later sends get a non-ok outcome at once', async () => {
  const fake = await fakeReplica(() => undefined); // never answers
  const c = channel(fake.url);
  const inFlight = [send(c, 'one'), send(c, 'two')];
  await until(() => fake.conns.length === 1, 'the channel to open');
  c.close();
  for (const o of await Promise.all(inFlight)) assert.equal(failure(o).kind, 'failed');
  assert.equal(c.usable, false);
  await fake.conns[0]!.gone; // the replica sees the connection go
  let later: ChannelOutcome | undefined;
  c.send('POST', '/score', [], Buffer.from('three'), 10_000, (o) => (later = o));
  assert.ok(later !== undefined, 'a send after close() is answered synchronously');
  assert.equal(later.ok, false);
  assert.equal(fake.conns.length, 1, 'close() does not reconnect');
});

test('channel: close() while still connecting fails the queued request; the late upgrade is dropped, not used', async () => {
  const fake = await fakeReplica(echo);
  const c = channel(fake.url);
  const p = send(c, 'queued');
  c.close();
  assert.equal(failure(await p).kind, 'failed');
  // The upgrade request was already on its way: the replica accepts it, and the gateway hangs up at once.
  await until(() => fake.conns.length === 1, 'the late upgrade to reach the replica');
  await fake.conns[0]!.gone;
  assert.equal(c.usable, false);
});
