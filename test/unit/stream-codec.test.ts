// Streaming's pure parts: SSE framing and the Accept check, chunk encoding, the ResponseStream hand-over (held chunks,
// pause once, cancel resumes a paused producer), the coded errors of a failed stream, and the channel's feature list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSE_END, sseData, sseError, wantsEventStream } from '../../src/inference/http/sse.js';
import { encodeChunk } from '../../src/inference/runtime/js/stream-pump.js';
import { ResponseStream, streamContentType, type StreamFailure } from '../../src/inference/runtime/response-stream.js';
import { streamError } from '../../src/inference/http/stream-response.js';
import { acceptedFeatures } from '../../src/inference/channel/frames.js';

test('wantsEventStream: only an Accept naming text/event-stream', () => {
  assert.equal(wantsEventStream('text/event-stream'), true);
  assert.equal(wantsEventStream('application/json, text/event-stream;q=0.9'), true);
  assert.equal(wantsEventStream('TEXT/EVENT-STREAM'), true);
  assert.equal(wantsEventStream('*/*'), false);
  assert.equal(wantsEventStream('text/event-streams'), false);
  assert.equal(wantsEventStream(undefined), false);
});

test('sseData: one event per chunk, every line a data field, a trailing line break dropped', () => {
  assert.equal(sseData(Buffer.from('hi')).toString(), 'data: hi\n\n');
  assert.equal(sseData('{"a":1}\n').toString(), 'data: {"a":1}\n\n');
  assert.equal(sseData('a\nb\r\nc\rd').toString(), 'data: a\ndata: b\ndata: c\ndata: d\n\n');
  assert.equal(sseData('').toString(), 'data: \n\n');
  assert.equal(sseData('x\n\n').toString(), 'data: x\ndata: \n\n');
  assert.equal(sseError('{"code":"E"}').toString(), 'event: error\ndata: {"code":"E"}\n\n');
  assert.equal(SSE_END.toString(), 'event: end\ndata: \n\n');
});

test('encodeChunk: strings as text, bytes as they are, anything else one line of JSON', () => {
  assert.deepEqual([encodeChunk('é').type, encodeChunk('é').data.toString()], ['text', 'é']);
  assert.deepEqual([encodeChunk(new Uint8Array([1, 2])).type, [...encodeChunk(new Uint8Array([1, 2])).data]], ['bytes', [1, 2]]);
  assert.deepEqual([encodeChunk({ a: 1 }).type, encodeChunk({ a: 1 }).data.toString()], ['json', '{"a":1}\n']);
  assert.equal(encodeChunk(undefined).data.toString(), 'null\n');
  assert.equal(streamContentType('json'), 'application/x-ndjson');
  assert.equal(streamContentType('bytes'), 'application/octet-stream');
});

function recording(): { calls: string[]; stream: ResponseStream } {
  const calls: string[] = [];
  return { calls, stream: new ResponseStream('text', { pause: () => calls.push('pause'), resume: () => calls.push('resume'), cancel: () => calls.push('cancel') }) };
}

test('ResponseStream: chunks and the end pushed before a sink attaches are delivered on attach, in order', () => {
  const { stream } = recording();
  stream.push(Buffer.from('a'));
  stream.push(Buffer.from('b'));
  stream.finish();
  const got: string[] = [];
  let closed = 0;
  stream.onClose(() => closed++);
  assert.equal(closed, 1, 'a finished stream calls a late close listener at once');
  stream.attach({ chunk: (c) => { got.push(c.toString()); return true; }, end: () => got.push('END'), fail: () => got.push('FAIL') });
  assert.deepEqual(got, ['a', 'b', 'END']);
});

test('ResponseStream: a full sink pauses the producer once; resume once; cancel resumes a paused producer and drops the rest', () => {
  const { calls, stream } = recording();
  const got: string[] = [];
  stream.attach({ chunk: (c) => { got.push(c.toString()); return false; }, end: () => got.push('END'), fail: () => got.push('FAIL') });
  stream.push(Buffer.from('a'));
  stream.push(Buffer.from('b'));
  assert.deepEqual(calls, ['pause']);
  stream.resume();
  stream.resume();
  assert.deepEqual(calls, ['pause', 'resume']);
  stream.push(Buffer.from('c'));
  let closed = false;
  stream.onClose(() => { closed = true; });
  stream.cancel();
  assert.deepEqual(calls, ['pause', 'resume', 'pause', 'resume', 'cancel']);
  stream.push(Buffer.from('d'));
  assert.equal(closed, false, 'the producer has not stopped yet');
  stream.finish();
  assert.equal(closed, true);
  assert.deepEqual(got, ['a', 'b', 'c'], 'nothing after the cancel, and no end for a client that is gone');
});

test('streamError: the coded error of each way a stream fails', () => {
  const of = (f: StreamFailure): { code: string; status: number } => {
    const e = streamError(f, 'rid', false);
    return { code: (JSON.parse(e.json) as { code: string }).code, status: e.status };
  };
  assert.deepEqual(of({ kind: 'timeout', timeoutMs: 9, which: 'next' }), { code: 'STREAM_CHUNK_TIMEOUT', status: 504 });
  assert.deepEqual(of({ kind: 'run_error', exception: 'E', message: 'm', traceback: 't' }), { code: 'RUN_FAILED', status: 500 });
  assert.deepEqual(of({ kind: 'worker_died', reason: 'x' }), { code: 'WORKER_DIED', status: 502 });
  const debug = JSON.parse(streamError({ kind: 'run_error', exception: 'E', message: 'm', traceback: 't' }, 'rid', true).json) as { exception: string; request_id: string };
  assert.deepEqual([debug.exception, debug.request_id], ['E: m', 'rid']);
});

test('acceptedFeatures: the offered ones this side speaks, in its own order', () => {
  assert.deepEqual(acceptedFeatures('stream, send-ahead', ['send-ahead', 'stream']), ['send-ahead', 'stream']);
  assert.deepEqual(acceptedFeatures('send-ahead', ['send-ahead', 'stream']), ['send-ahead']);
  assert.deepEqual(acceptedFeatures('other', ['send-ahead']), []);
  assert.deepEqual(acceptedFeatures(undefined, ['send-ahead']), []);
});
