// Worker frames: what encodeRequest writes is what a reader sees, and the decoder copes with frames split or joined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRequest, FrameDecoder, type ReplyFrame } from '../../src/inference/runtime/python/frames.js';

function reply(id: number, meta: object | undefined, body: string): Buffer {
  const metaBytes = meta === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(meta));
  const bodyBytes = Buffer.from(body);
  const head = Buffer.alloc(12);
  head.writeUInt32BE(8 + metaBytes.length + bodyBytes.length, 0);
  head.writeUInt32BE(id, 4);
  head.writeUInt32BE(metaBytes.length, 8);
  return Buffer.concat([head, metaBytes, bodyBytes]);
}

test('a request frame carries length, id, meta length, meta and body', () => {
  const frame = Buffer.concat(encodeRequest(7, '{"h":1}', Buffer.from('body')));
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  assert.equal(frame.readUInt32BE(4), 7);
  assert.equal(frame.readUInt32BE(8), 7);
  assert.equal(frame.subarray(12, 19).toString(), '{"h":1}');
  assert.equal(frame.subarray(19).toString(), 'body');
});

test('the decoder yields whole frames whether bytes arrive one at a time or several frames at once', () => {
  const stream = Buffer.concat([reply(1, undefined, '{"a":1}'), reply(0, { event: 'ready' }, ''), reply(2, { status: 201 }, 'x')]);
  for (const chunkSize of [1, 3, stream.length]) {
    const frames: ReplyFrame[] = [];
    const decoder = new FrameDecoder((f) => frames.push({ ...f, body: Buffer.from(f.body) }));
    for (let i = 0; i < stream.length; i += chunkSize) decoder.push(stream.subarray(i, i + chunkSize));
    assert.deepEqual(frames.map((f) => [f.id, f.meta, f.body.toString()]), [[1, undefined, '{"a":1}'], [0, { event: 'ready' }, ''], [2, { status: 201 }, 'x']]);
  }
});
