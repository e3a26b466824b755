// berth serve streams a generator run() (Python) or an async iterable / ReadableStream run() (JS): chunks arrive as
// they are yielded, SSE on request, a client that hangs up stops the generator, and the first-chunk and
// between-chunk limits end a stream the way the client can see.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { cleanup, tempDir } from '../helpers/control-plane.js';
import { fileAppears, openStream, stalledFloodCount } from '../helpers/stream-client.js';
import { until } from '../helpers/services.js';

after(cleanup);

const servers: ServeProcess[] = [];
after(async () => { await Promise.all(servers.map((s) => s.stop())); });

async function serve(script: string, flags: readonly string[] = []): Promise<{ url: string; dir: string; server: ServeProcess }> {
  const dir = tempDir('berth-stream-');
  const server = await startServe(['--entry-script', fixture(script), ...flags], { env: { STREAM_DIR: dir } });
  servers.push(server);
  return { url: `${server.url}/score`, dir, server };
}

test('Python generator: chunks arrive before the generator finishes; chunked transfer, NDJSON for objects', async () => {
  const { url, dir, server } = await serve('stream_score.py');
  const s = await openStream(url, { mode: 'gated', tag: 'a' });
  assert.equal(s.status, 200);
  assert.equal(s.headers.get('content-type'), 'text/plain; charset=utf-8', 'the first chunk is text');
  assert.equal(s.headers.get('content-length'), null);
  const early = await s.readUntil('{"n": 2}\n');
  assert.equal(early, 'first\n{"n": 2}\n');
  assert.equal(existsSync(join(dir, 'closed-a')), false, 'the generator is still running');
  writeFileSync(join(dir, 'release-a'), '');
  assert.equal(await s.rest(), 'first\n{"n": 2}\nlast line one\nlast line two');
  await fileAppears(join(dir, 'closed-a'));
  // An iterator that is not a generator streams too; a plain result is unchanged.
  const it = await fetch(url, { method: 'POST', body: '{"mode": "iter"}' });
  assert.equal(await it.text(), 'abc');
  const plain = await fetch(url, { method: 'POST', body: '{"mode": "plain"}' });
  assert.equal(plain.headers.get('content-length'), String('{"plain": true}'.length));
  assert.deepEqual(await plain.json(), { plain: true });
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /berth_stream_first_chunk_seconds_count 2/);
});

test('Accept: text/event-stream: one event per chunk, multi-line chunks as several data lines, an end event', async () => {
  const { url, dir } = await serve('stream_score.py');
  const s = await openStream(url, { mode: 'gated', tag: 'b' }, { accept: 'text/event-stream' });
  assert.equal(s.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(s.headers.get('cache-control'), 'no-cache');
  await s.readUntil('data: {"n": 2}\n\n');
  writeFileSync(join(dir, 'release-b'), '');
  assert.equal(await s.rest(), 'data: first\n\ndata: {"n": 2}\n\ndata: last line one\ndata: last line two\n\nevent: end\ndata: \n\n');
});

test('a client that hangs up stops the generator (its finally runs); the worker then serves the next request', async () => {
  const { url, dir } = await serve('stream_score.py');
  const s = await openStream(url, { mode: 'forever', tag: 'c' });
  await s.readUntil('first\n');
  s.abort();
  writeFileSync(join(dir, 'release-c'), ''); // from now on it yields without end, until it is closed
  await fileAppears(join(dir, 'closed-c'));
  const next = await fetch(url, { method: 'POST', body: '{"mode": "plain"}' });
  assert.deepEqual(await next.json(), { plain: true });
});

test('errors before the first chunk are ordinary responses; after it, SSE gets an error event and chunked a cut-off body', async () => {
  const { url } = await serve('stream_score.py');
  const early = await fetch(url, { method: 'POST', body: '{"mode": "raise-early"}' });
  assert.equal(early.status, 500);
  assert.equal(((await early.json()) as { code: string }).code, 'RUN_FAILED');

  const sse = await openStream(url, { mode: 'raise-mid' }, { accept: 'text/event-stream' });
  const text = await sse.rest();
  const event = /event: error\ndata: (.*)\n\n$/.exec(text);
  assert.ok(event !== null, text);
  assert.equal((JSON.parse(event[1]!) as { code: string }).code, 'RUN_FAILED');

  const chunked = await openStream(url, { mode: 'raise-mid' });
  await assert.rejects(chunked.rest(), /terminated/);
});

test('first-chunk timeout: 504 before anything was sent; between-chunk timeout: an error event, the worker recycled', async () => {
  const { url, server } = await serve('stream_score.py', ['--first-chunk-timeout-ms', '700', '--chunk-timeout-ms', '700']);
  const started = Date.now();
  const late = await fetch(url, { method: 'POST', body: '{"mode": "silent-first", "tag": "d"}' });
  assert.equal(late.status, 504);
  const body = (await late.json()) as { code: string; message: string };
  assert.equal(body.code, 'SCORING_TIMEOUT');
  assert.match(body.message, /700 ms/);
  assert.ok(Date.now() - started < 5000);
  await server.waitForLog((l) => l.msg === 'worker ready' && server.logs.filter((x) => x.msg === 'worker ready').length >= 2);

  const s = await openStream(url, { mode: 'stall', tag: 'e' }, { accept: 'text/event-stream' });
  const text = await s.rest();
  assert.match(text, /^data: first\n\nevent: error\ndata: /);
  const error = JSON.parse(/event: error\ndata: (.*)\n/.exec(text)![1]!) as { code: string };
  assert.equal(error.code, 'STREAM_CHUNK_TIMEOUT');

  const chunked = await openStream(url, { mode: 'stall', tag: 'f' });
  await chunked.readUntil('first\n');
  await assert.rejects(chunked.rest(), /terminated/);
});

for (const workers of ['1', '2']) {
  test(`JS run() (${workers === '1' ? 'in-process' : 'worker threads'}): an async generator and a ReadableStream stream; hanging up calls return()`, async () => {
    const { url, dir } = await serve('stream_score.mjs', ['--worker-count', workers]);
    const s = await openStream(url, { tag: 'g' });
    assert.equal(await s.readUntil('{"n":2}\n'), 'first\n{"n":2}\n');
    assert.equal(existsSync(join(dir, 'closed-g')), false);
    writeFileSync(join(dir, 'release-g'), '');
    assert.equal(await s.rest(), 'first\n{"n":2}\nlast\n');
    await fileAppears(join(dir, 'closed-g'));

    const readable = await fetch(url, { method: 'POST', body: '{"mode": "readable"}', headers: { accept: 'text/event-stream' } });
    assert.equal(await readable.text(), 'data: r1\n\ndata: r2\n\nevent: end\ndata: \n\n');

    const gone = await openStream(url, { mode: 'forever', tag: 'h' });
    await gone.readUntil('first\n');
    gone.abort();
    writeFileSync(join(dir, 'release-h'), '');
    await fileAppears(join(dir, 'closed-h'));

    const mid = await openStream(url, { mode: 'raise-mid', tag: 'i' }, { accept: 'text/event-stream' });
    await mid.readUntil('data: {"n":2}\n\n');
    writeFileSync(join(dir, 'release-i'), '');
    assert.match(await mid.rest(), /event: error\ndata: \{"message":"run\(\) raised/);
  });
}

for (const workers of ['1', '2']) {
  test(`JS run() (${workers === '1' ? 'in-process' : 'worker threads'}): a stream stalled past --chunk-timeout-ms ends with an error event; the server serves on`, async () => {
    const { url } = await serve('stream_score.mjs', ['--worker-count', workers, '--chunk-timeout-ms', '600']);
    const s = await openStream(url, { tag: `never-${workers}` }, { accept: 'text/event-stream' });
    const text = await s.rest();
    assert.match(text, /^data: first\n\ndata: \{"n":2\}\n\nevent: error\ndata: /);
    assert.equal((JSON.parse(/event: error\ndata: (.*)\n/.exec(text)![1]!) as { code: string }).code, 'STREAM_CHUNK_TIMEOUT');
    // In-process the late iterator is only asked to return(); a thread is ended and replaced. Either way the next request is answered.
    const ok = await until(async () => {
      const r = await fetch(url, { method: 'POST', body: '{"mode": "plain"}' });
      return r.status === 200 ? await r.json() : undefined;
    }, 20_000, 'a plain answer after the timeout');
    assert.deepEqual(ok, { plain: true });
  });
}

test('a streaming warm-up request runs its stream to the end; v2 infer refuses a streaming run() and closes its generator', async () => {
  const { url, dir, server } = await serve('stream_score.py', ['--warmup-request', '{"mode": "iter"}']);
  assert.deepEqual(await (await fetch(url, { method: 'POST', body: '{"mode": "plain"}' })).json(), { plain: true });
  const infer = await fetch(`${server.url}/v2/models/stream_score/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] }),
  });
  const body = (await infer.json()) as { code: string; error: string };
  assert.equal(body.code, 'OIP_BAD_OUTPUT', JSON.stringify(body));
  assert.match(body.error, /streams/);
  writeFileSync(join(dir, 'release-x'), '');
  await fileAppears(join(dir, 'closed-x'));
});

test('back-pressure: a client that stops reading stops the generator (a bounded amount buffered), and it resumes when the client reads', async (t) => {
  const { url, dir } = await serve('stream_score.py');
  // 256 MiB offered in 64 KiB chunks: without back-pressure the generator would be done long before a second passes.
  const { stalledAt, total } = await stalledFloodCount(url, dir, 'bp', 4096, 65536);
  t.diagnostic(`the generator stopped after ${stalledAt} of 4096 chunks of 64 KiB`);
  assert.ok(stalledAt < 1024, `the generator stopped after ${stalledAt} of 4096 chunks (at most 64 MiB in buffers)`);
  assert.equal(total, 4096 * 65536, 'every byte arrived once the client read again');
  await fileAppears(join(dir, 'closed-bp'));
});
