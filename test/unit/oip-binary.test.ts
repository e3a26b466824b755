// The binary tensor data extension: inputs read from the bytes after the JSON object, outputs written there, FP16 and BYTES included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryInputs, binaryOutputNames, encodeBinaryResponse, halfToNumber, numberToHalf, splitBody } from '../../src/inference/oip/binary.js';
import { parseInferRequest, TensorError, type Tensor } from '../../src/inference/oip/tensor.js';

/** A request body as a binary-data client sends it: the JSON object, then each input's bytes; and the header's value. */
function binaryRequest(inputs: Array<{ name: string; datatype: string; shape: number[]; bytes: Buffer }>, extra: Record<string, unknown> = {}): { body: Buffer; headerLength: string } {
  const json = Buffer.from(JSON.stringify({ ...extra, inputs: inputs.map(({ bytes, ...t }) => ({ ...t, parameters: { binary_data_size: bytes.length } })) }));
  return { body: Buffer.concat([json, ...inputs.map((i) => i.bytes)]), headerLength: String(json.length) };
}

function parse(body: Buffer, headerLength: string): { request: ReturnType<typeof parseInferRequest>; rawBytes: ReadonlySet<string> } {
  const { json, binary } = splitBody(body, headerLength);
  const reader = new BinaryInputs(binary);
  const request = parseInferRequest(JSON.parse(json.toString('utf8')), reader.read);
  reader.finish();
  return { request, rawBytes: reader.rawBytes };
}

const le = (ctor: { from(values: number[]): ArrayBufferView }, values: number[]): Buffer => {
  const view = ctor.from(values);
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
};

test('numeric and BOOL inputs are read little-endian, row-major, in the order of the inputs', () => {
  const i64 = Buffer.alloc(16);
  i64.writeBigInt64LE(-5n, 0);
  i64.writeBigInt64LE(2n ** 40n, 8);
  const { body, headerLength } = binaryRequest([
    { name: 'f', datatype: 'FP32', shape: [2, 2], bytes: le(Float32Array, [1.5, -2, 3, 4.25]) },
    { name: 'b', datatype: 'BOOL', shape: [3], bytes: Buffer.from([1, 0, 1]) },
    { name: 'i', datatype: 'INT64', shape: [2], bytes: i64 },
    { name: 'u', datatype: 'UINT16', shape: [1], bytes: le(Uint16Array, [65_535]) },
    { name: 'd', datatype: 'FP64', shape: [1], bytes: le(Float64Array, [0.1]) },
    { name: 's', datatype: 'INT8', shape: [2], bytes: le(Int8Array, [-128, 127]) },
  ]);
  const { request } = parse(body, headerLength);
  assert.deepEqual(request.inputs.map((t) => [t.name, t.data]), [
    ['f', [1.5, -2, 3, 4.25]], ['b', [true, false, true]], ['i', [-5, 2 ** 40]], ['u', [65_535]], ['d', [0.1]], ['s', [-128, 127]],
  ]);
});

test('BYTES elements carry a 4-byte length; they reach the script as raw bytes (base64 on the way)', () => {
  const element = (b: Buffer): Buffer => Buffer.concat([le(Uint32Array, [b.length]), b]);
  const raw = Buffer.from([0xff, 0x00, 0xfe]);
  const { body, headerLength } = binaryRequest([{ name: 't', datatype: 'BYTES', shape: [2], bytes: Buffer.concat([element(Buffer.from('héllo')), element(raw)]) }]);
  const { request, rawBytes } = parse(body, headerLength);
  assert.deepEqual(request.inputs[0]?.data, [Buffer.from('héllo').toString('base64'), raw.toString('base64')]);
  assert.deepEqual([...rawBytes], ['t']);
});

test('binary data that does not add up is a 400, not a guess', () => {
  const fails = (body: Buffer, headerLength: string, why: RegExp): void => {
    assert.throws(() => parse(body, headerLength), (err: unknown) => err instanceof TensorError && why.test(err.detail), String(why));
  };
  const ok = binaryRequest([{ name: 'f', datatype: 'FP32', shape: [2], bytes: le(Float32Array, [1, 2]) }]);
  fails(Buffer.concat([ok.body, Buffer.from([0])]), ok.headerLength, /1 bytes of binary data that no input's binary_data_size claims/);
  fails(ok.body.subarray(0, ok.body.length - 1), ok.headerLength, /binary_data_size 8 runs past the end/);
  fails(ok.body, '99999', /not a length within the body/);
  const odd = binaryRequest([{ name: 'f', datatype: 'FP32', shape: [1], bytes: Buffer.alloc(6) }]);
  fails(odd.body, odd.headerLength, /binary_data_size 6 is not a whole number of FP32 elements \(4 bytes each\)/);
  const short = binaryRequest([{ name: 'f', datatype: 'FP32', shape: [3], bytes: le(Float32Array, [1, 2]) }]);
  fails(short.body, short.headerLength, /shape \[3\] holds 3 elements, but the data has 2/);
  const cut = binaryRequest([{ name: 't', datatype: 'BYTES', shape: [1], bytes: Buffer.concat([le(Uint32Array, [10]), Buffer.from('abc')]) }]);
  fails(cut.body, cut.headerLength, /a BYTES element of 10 bytes runs past its binary_data_size/);
});

test('FP16 goes through half-precision bits both ways', () => {
  for (const [bits, value] of [[0x3c00, 1], [0xc000, -2], [0x7bff, 65_504], [0x0001, 2 ** -24], [0x3555, 0.333251953125], [0x0000, 0]] as const) {
    assert.equal(halfToNumber(bits), value, `bits ${bits.toString(16)}`);
    assert.equal(numberToHalf(value), bits, `value ${value}`);
  }
  assert.equal(numberToHalf(1 / 3), 0x3555, 'rounded to nearest');
  assert.equal(halfToNumber(0x7c00), Infinity);
});

test('outputs go back as binary when asked (binary_data_output, or binary_data per output), with the JSON length', () => {
  const outputs: Tensor[] = [
    { name: 'p', datatype: 'FP32', shape: [2], data: [0.25, 0.75] },
    { name: 'label', datatype: 'BYTES', shape: [1], data: ['cat'] },
    { name: 'h', datatype: 'FP16', shape: [1], data: [1] },
  ];
  const response = { model_name: 'm', id: '1', outputs };
  const none = parseInferRequest({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
  assert.equal(encodeBinaryResponse(response, binaryOutputNames(none)), undefined, 'JSON unless asked');
  const all = parseInferRequest({ parameters: { binary_data_output: true }, inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], outputs: [{ name: 'label', parameters: { binary_data: false } }] });
  const encoded = encodeBinaryResponse(response, binaryOutputNames(all));
  assert.ok(encoded !== undefined);
  const header = JSON.parse(encoded.body.subarray(0, encoded.headerLength).toString('utf8')) as { outputs: Array<{ name: string; data?: unknown; parameters?: { binary_data_size?: number } }> };
  assert.deepEqual(header.outputs.map((o) => [o.name, o.parameters?.binary_data_size, o.data]), [['p', 8, undefined], ['label', undefined, ['cat']], ['h', 2, undefined]]);
  const tail = encoded.body.subarray(encoded.headerLength);
  assert.deepEqual([tail.readFloatLE(0), tail.readFloatLE(4), tail.readUInt16LE(8)], [0.25, 0.75, 0x3c00]);
  const one = parseInferRequest({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], outputs: [{ name: 'label', parameters: { binary_data: true } }] });
  const bytes = encodeBinaryResponse(response, binaryOutputNames(one));
  assert.ok(bytes !== undefined);
  const rest = bytes.body.subarray(bytes.headerLength);
  assert.deepEqual([rest.readUInt32LE(0), rest.subarray(4).toString()], [3, 'cat']);
});
