// Server-Sent Events framing: what the plane writes, the browser's parser reads back, however the bytes are cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSse, SseParser, SSE_PING } from '../../src/ui/shared/sse.js';

test('a message round-trips, multi-line data included, through every split point of the stream', () => {
  const messages = [
    { event: 'hello', data: '{"stream":"a"}' },
    { event: 'log', data: JSON.stringify({ text: 'line one\nline two\r\nline three\n' }) },
    { event: 'raw', data: 'first\nsecond\n\nfourth' },
  ];
  const wire = messages.map((m) => formatSse(m.event, m.data)).join(SSE_PING);
  for (let cut = 0; cut <= wire.length; cut++) {
    const p = new SseParser();
    const got = [...p.push(wire.slice(0, cut)), ...p.push(wire.slice(cut))];
    assert.deepEqual(got, messages, `cut at ${cut}`);
  }
});

test('the standard\'s line rules: CRLF, CR and LF endings (a CRLF split across chunks included), comments, ids, defaults', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': comment\r\nevent: a\r\ndata: 1\r'), []);
  assert.deepEqual(p.push('\n\r\n'), [{ event: 'a', data: '1' }], 'the LF after a chunk-final CR is not a second line end');
  assert.deepEqual(p.push('data:no space\rdata:  two spaces\r\r'), [{ event: 'message', data: 'no space\n two spaces' }]);
  assert.deepEqual(p.push('id: 7\nevent: b\n\n'), [], 'a message without data is not dispatched');
  assert.deepEqual(p.push('data\n\n'), [{ event: 'message', data: '', id: '7' }], 'a bare data field is an empty line; the id sticks');
  assert.deepEqual(p.push('event: x\ndata: y'), [], 'no blank line yet');
  assert.deepEqual(p.push('\n\n'), [{ event: 'x', data: 'y', id: '7' }]);
});

test('formatSse refuses names that would break the framing', () => {
  assert.throws(() => formatSse('a\nb', 'x'));
  assert.equal(formatSse('tick', 'x', '3'), 'id: 3\nevent: tick\ndata: x\n\n');
});
