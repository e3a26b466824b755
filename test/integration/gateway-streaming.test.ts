// Streaming through the gateway (/api/v1/service/NAME/score) on real replicas: chunks pass as they are yielded over
// the scoring channel, SSE framing is kept, a client that hangs up stops the generator, the limits end a stream the
// client can see, a request sent ahead waits behind a stream, and JS async iterables stream too.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, tempDir } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane, type Plane } from '../helpers/services.js';
import { fileAppears, openStream, stalledFloodCount } from '../helpers/stream-client.js';

after(cleanup);

let plane: Plane;
const signals = tempDir('berth-stream-signals-');
before(async () => { plane = await startPlane(); });
after(() => stopPlane(plane));

/** A source dir with the streaming fixture and stream.dir, the folder its signal files are in. */
function streamSource(script: string): string {
  const dir = tempDir('berth-stream-src-');
  copyFileSync(fixture(script), join(dir, script));
  writeFileSync(join(dir, 'stream.dir'), `${signals}\n`);
  return dir;
}

async function deploy(name: string, script: string, flags: readonly string[] = []): Promise<string> {
  await plane.ok(['deploy', '--name', name, '--source-dir', streamSource(script), '--entry-script', script, '--no-auth', '--replicas', '1', ...flags]);
  return `${plane.url}/api/v1/service/${name}/score`;
}

test('through the gateway: chunks arrive before the generator finishes, chunked and SSE; the gateway counts time to first chunk', async () => {
  const uri = await deploy('streamer', 'stream_score.py');
  const s = await openStream(uri, { mode: 'gated', tag: 'ga' });
  assert.equal(s.status, 200);
  assert.equal(await s.readUntil('{"n": 2}\n'), 'first\n{"n": 2}\n');
  assert.equal(existsSync(join(signals, 'closed-ga')), false, 'the generator is still running');
  writeFileSync(join(signals, 'release-ga'), '');
  assert.equal(await s.rest(), 'first\n{"n": 2}\nlast line one\nlast line two');

  const sse = await openStream(uri, { mode: 'gated', tag: 'gb' }, { accept: 'text/event-stream' });
  assert.equal(sse.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  await sse.readUntil('data: {"n": 2}\n\n');
  writeFileSync(join(signals, 'release-gb'), '');
  assert.equal(await sse.rest(), 'data: first\n\ndata: {"n": 2}\n\ndata: last line one\ndata: last line two\n\nevent: end\ndata: \n\n');

  const plain = await fetch(uri, { method: 'POST', body: '{"mode": "plain"}' });
  assert.deepEqual(await plain.json(), { plain: true });
  const metrics = await (await fetch(`${plane.url}/metrics`)).text();
  assert.match(metrics, /berth_gateway_first_chunk_seconds_count\{service="streamer"\} 2/);
  assert.match(metrics, /berth_gateway_upstream_attempts_total\{transport="http"\} 0/);
});

test('through the gateway: a client that hangs up stops the generator; a request sent ahead waits behind a stream, then runs', async () => {
  const uri = await deploy('hangup', 'stream_score.py', ['--max-concurrent-requests', '1', '--max-request-wait-ms', '30000']);
  const s = await openStream(uri, { mode: 'forever', tag: 'gc' });
  await s.readUntil('first\n');
  s.abort();
  writeFileSync(join(signals, 'release-gc'), '');
  await fileAppears(join(signals, 'closed-gc'));

  const held = await openStream(uri, { mode: 'gated', tag: 'gd' });
  await held.readUntil('first\n');
  const behind = fetch(uri, { method: 'POST', body: '{"mode": "plain"}' });
  writeFileSync(join(signals, 'release-gd'), '');
  assert.match(await held.rest(), /last line two$/);
  const r = await behind;
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { plain: true });
});

test('through the gateway: a late first chunk is a 504, a stalled stream ends with an error event (SSE) or a cut-off body', async () => {
  const uri = await deploy('stalls', 'stream_score.py', ['--first-chunk-timeout-ms', '700', '--chunk-timeout-ms', '700']);
  const late = await fetch(uri, { method: 'POST', body: '{"mode": "silent-first", "tag": "ge"}' });
  assert.equal(late.status, 504);
  assert.equal(((await late.json()) as { code: string }).code, 'SCORING_TIMEOUT');

  const sse = await openStream(uri, { mode: 'stall', tag: 'gf' }, { accept: 'text/event-stream' });
  const text = await sse.rest(20_000);
  assert.match(text, /^data: first\n\nevent: error\ndata: /);
  assert.equal((JSON.parse(/event: error\ndata: (.*)\n/.exec(text)![1]!) as { code: string }).code, 'STREAM_CHUNK_TIMEOUT');

  const chunked = await openStream(uri, { mode: 'stall', tag: 'gg' });
  await chunked.readUntil('first\n', 20_000);
  await assert.rejects(chunked.rest(20_000), /terminated/);
});

test('through the gateway: a JS async generator streams, and hanging up calls its return()', async () => {
  const uri = await deploy('jsstream', 'stream_score.mjs');
  const s = await openStream(uri, { tag: 'gh' }, { accept: 'text/event-stream' });
  await s.readUntil('data: {"n":2}\n\n');
  writeFileSync(join(signals, 'release-gh'), '');
  assert.equal(await s.rest(), 'data: first\n\ndata: {"n":2}\n\ndata: last\n\nevent: end\ndata: \n\n');
  const gone = await openStream(uri, { mode: 'forever', tag: 'gi' });
  await gone.readUntil('first\n');
  gone.abort();
  writeFileSync(join(signals, 'release-gi'), '');
  await fileAppears(join(signals, 'closed-gi'));
});

test('back-pressure through the gateway: a client that stops reading pauses the replica\'s generator, reading again resumes it', async (t) => {
  const uri = await deploy('flooder', 'stream_score.py');
  const { stalledAt, total } = await stalledFloodCount(uri, signals, 'gbp', 4096, 65536);
  t.diagnostic(`the generator stopped after ${stalledAt} of 4096 chunks of 64 KiB`);
  assert.ok(stalledAt < 1024, `the generator stopped after ${stalledAt} of 4096 chunks (at most 64 MiB in buffers)`);
  assert.equal(total, 4096 * 65536, 'every byte arrived once the client read again');
  await fileAppears(join(signals, 'closed-gbp'));
});
