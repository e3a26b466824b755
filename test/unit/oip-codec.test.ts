// The Open Inference Protocol tensor codec: datatypes, shapes, nested and flat data, BYTES, BOOL, mismatches, the run() mapping and signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementProblem, datatypeOfValues } from '../../src/inference/oip/datatypes.js';
import { flatten, nest, parseInferRequest, shapeOf, tensorFromValue, TensorError } from '../../src/inference/oip/tensor.js';
import { inferResponse, outputFromRun, outputsFromWorker, OutputError, runInputBody, workerInferBody } from '../../src/inference/oip/mapping.js';
import { checkAgainstSignature, modelMetadata, parseSignature } from '../../src/inference/oip/model.js';
import { matchOipPath } from '../../src/inference/oip/paths.js';

const input = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'x', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4], ...over });
const request = (...inputs: Array<Record<string, unknown>>): unknown => ({ inputs });
const rejects = (body: unknown, message: RegExp): void => {
  assert.throws(() => parseInferRequest(body), (err: unknown) => err instanceof TensorError && message.test(err.detail), `expected ${message}`);
};

test('each datatype takes the JSON values it can hold and refuses the rest', () => {
  const fits: Array<[string, unknown]> = [
    ['BOOL', true], ['BOOL', false], ['UINT8', 0], ['UINT8', 255], ['UINT16', 65_535], ['UINT32', 4_294_967_295], ['UINT64', 2 ** 53],
    ['INT8', -128], ['INT8', 127], ['INT16', -32_768], ['INT32', -2_147_483_648], ['INT64', -(2 ** 63)], ['FP16', 65_504], ['FP16', -0.5],
    ['FP32', 3.4e38], ['FP64', 1e308], ['FP32', 1], ['BYTES', 'text'], ['BYTES', ''],
  ];
  for (const [dt, v] of fits) assert.equal(elementProblem(dt as never, v), undefined, `${dt} ${String(v)}`);
  const refused: Array<[string, unknown, RegExp]> = [
    ['BOOL', 1, /not a boolean/], ['BOOL', 'true', /not a boolean/], ['UINT8', 256, /out of range for UINT8/], ['UINT8', -1, /out of range/],
    ['UINT8', 1.5, /not an integer/], ['INT8', -129, /out of range/], ['INT32', 2 ** 31, /out of range/], ['INT64', 2 ** 63, /out of range/],
    ['UINT64', 2 ** 64, /out of range/], ['FP16', 70_000, /out of range for FP16/], ['FP32', 1e39, /out of range for FP32/],
    ['FP64', 'NaN', /not a number/], ['INT32', null, /null is not a number/], ['BYTES', 1, /not a string/], ['FP32', [1], /an array is not a number/],
  ];
  for (const [dt, v, why] of refused) assert.match(elementProblem(dt as never, v) ?? '', why, `${dt} ${JSON.stringify(v)}`);
});

test('data may be nested or flat, row-major; both give the same tensor', () => {
  const flat = parseInferRequest(request(input()));
  const nested = parseInferRequest(request(input({ data: [[1, 2], [3, 4]] })));
  assert.deepEqual(flat.inputs[0], { name: 'x', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] });
  assert.deepEqual(nested.inputs, flat.inputs);
  assert.deepEqual(nest([1, 2, 3, 4, 5, 6], [2, 3]), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(nest([1, 2, 3, 4, 5, 6], [3, 1, 2]), [[[1, 2]], [[3, 4]], [[5, 6]]]);
  assert.equal(nest([7], []), 7, 'shape [] is a scalar');
  assert.deepEqual(nest([], [0, 3]), []);
  assert.deepEqual(flatten([[1, [2]], [3, 4]]), [1, 2, 3, 4]);
});

test('shape and data length must agree, zero-size and scalar shapes included', () => {
  rejects(request(input({ data: [1, 2, 3] })), /input "x": shape \[2, 2\] holds 4 elements, but the data has 3/);
  rejects(request(input({ data: [[1, 2], [3, 4], [5, 6]] })), /holds 4 elements, but the data has 6/);
  assert.deepEqual(parseInferRequest(request(input({ shape: [0, 3], data: [] }))).inputs[0]?.data, []);
  assert.deepEqual(parseInferRequest(request(input({ shape: [], data: [5] }))).inputs[0]?.shape, []);
  rejects(request(input({ shape: [2, -1] })), /inputs\[0\]\.shape\[1\]/);
  rejects(request(input({ shape: [1.5] })), /inputs\[0\]\.shape\[0\]/);
});

test('datatypes: unknown names, and elements that do not fit, get the protocol 400 with the element named', () => {
  rejects(request(input({ datatype: 'FLOAT32' })), /input "x": unknown datatype "FLOAT32"; the datatypes are BOOL, UINT8/);
  rejects(request(input({ datatype: 'INT32', data: [1, 2, 3.5, 4] })), /input "x": element 2 \(row-major\) does not fit INT32: 3.5 is not an integer/);
  rejects(request(input({ datatype: 'BOOL', data: [true, false, 1, true] })), /element 2 .* does not fit BOOL: 1 is not a boolean/);
  rejects(request(input({ datatype: 'BYTES', data: ['a', 'b', 'c', 4] })), /element 3 .* does not fit BYTES: 4 is not a string/);
  const bytes = parseInferRequest(request(input({ datatype: 'BYTES', shape: [2], data: ['héllo', ''] })));
  assert.deepEqual(bytes.inputs[0]?.data, ['héllo', '']);
  const bools = parseInferRequest(request(input({ datatype: 'BOOL', shape: [1, 2], data: [[true, false]] })));
  assert.deepEqual(bools.inputs[0]?.data, [true, false]);
});

test('the request object itself: inputs required, unknown fields and repeated names refused, id and parameters kept', () => {
  rejects({}, /inputs/);
  rejects({ inputs: [] }, /at least one input/);
  rejects({ inputs: [input()], extra: 1 }, /the request: unknown field "extra"/);
  rejects(request(input({ colour: 'red' })), /inputs\[0\]: unknown field "colour"/);
  rejects(request(input(), input()), /input "x" is given twice/);
  rejects(request(input({ data: undefined })), /input "x" has no data/);
  rejects({ inputs: [input()], outputs: [{ name: 'y' }, { name: 'y' }] }, /output "y" is requested twice/);
  rejects({ inputs: [input()], parameters: { nested: { a: 1 } } }, /parameters/);
  const r = parseInferRequest({ id: 'r-1', parameters: { temperature: 0.5, mode: 'fast', flag: true }, inputs: [input()], outputs: [{ name: 'y', parameters: { binary_data: false } }] });
  assert.equal(r.id, 'r-1');
  assert.deepEqual(r.parameters, { temperature: 0.5, mode: 'fast', flag: true });
  assert.deepEqual(r.outputs, [{ name: 'y', parameters: { binary_data: false } }]);
});

test('plain values become tensors: shape from the nesting, datatype from the elements', () => {
  assert.deepEqual(tensorFromValue('o', [[1, 2], [3, 4]]), { name: 'o', datatype: 'INT64', shape: [2, 2], data: [1, 2, 3, 4] });
  assert.deepEqual(tensorFromValue('o', [1, 2.5]), { name: 'o', datatype: 'FP64', shape: [2], data: [1, 2.5] });
  assert.deepEqual(tensorFromValue('o', [true, false]), { name: 'o', datatype: 'BOOL', shape: [2], data: [true, false] });
  assert.deepEqual(tensorFromValue('o', ['a', 'b']), { name: 'o', datatype: 'BYTES', shape: [2], data: ['a', 'b'] });
  assert.deepEqual(tensorFromValue('o', 3), { name: 'o', datatype: 'INT64', shape: [1], data: [3] }, 'a scalar is shape [1]');
  assert.deepEqual(tensorFromValue('o', []), { name: 'o', datatype: 'FP64', shape: [0], data: [] });
  assert.deepEqual(tensorFromValue('o', [1, 2], 'FP32'), { name: 'o', datatype: 'FP32', shape: [2], data: [1, 2] });
  assert.equal(tensorFromValue('o', [[1, 2], [3]]), undefined, 'ragged');
  assert.equal(tensorFromValue('o', [1, 'a']), undefined, 'mixed');
  assert.equal(tensorFromValue('o', { a: 1 }), undefined, 'an object');
  assert.equal(tensorFromValue('o', [1.5], 'INT32'), undefined, 'does not fit the given datatype');
  assert.equal(shapeOf([[1], 2]), undefined);
  assert.equal(datatypeOfValues([1, true]), undefined);
});

test('the run() fallback: the one input nested as {"data": ...}, the result back as output-0', () => {
  const r = parseInferRequest(request(input({ shape: [2, 2], data: [1, 2, 3, 4] })));
  assert.equal(runInputBody(r), '{"data":[[1,2],[3,4]]}');
  assert.equal(runInputBody(parseInferRequest(request(input({ shape: [], data: [5] })))), '{"data":5}');
  assert.throws(() => runInputBody(parseInferRequest(request(input(), input({ name: 'y' })))), /defines no infer\(\), so it takes exactly one input .* this request has 2/);
  assert.throws(() => runInputBody(parseInferRequest({ inputs: [input()], outputs: [{ name: 'probabilities' }] })), /unknown output "probabilities" requested: run\(\)'s result is the one output "output-0"/);
  const json = 'application/json';
  assert.deepEqual(outputFromRun(json, '[[0.1, 0.9], [0.8, 0.2]]'), { name: 'output-0', datatype: 'FP64', shape: [2, 2], data: [0.1, 0.9, 0.8, 0.2] });
  assert.deepEqual(outputFromRun(json, '[1, 0, 1]'), { name: 'output-0', datatype: 'INT64', shape: [3], data: [1, 0, 1] });
  assert.deepEqual(outputFromRun(json, '"cat"'), { name: 'output-0', datatype: 'BYTES', shape: [1], data: ['cat'] });
  assert.deepEqual(outputFromRun(json, '{"result": [3, 7]}'), { name: 'output-0', datatype: 'BYTES', shape: [1], data: ['{"result": [3, 7]}'] });
  assert.deepEqual(outputFromRun(json, '[[1, 2], [3]]'), { name: 'output-0', datatype: 'BYTES', shape: [1], data: ['[[1, 2], [3]]'] });
  assert.deepEqual(outputFromRun('text/plain; charset=utf-8', '42'), { name: 'output-0', datatype: 'BYTES', shape: [1], data: ['42'] });
});

test('infer() outputs: shapes and datatypes worked out or checked, declared datatypes applied to plain lists', () => {
  const body = (outputs: unknown): string => JSON.stringify({ outputs });
  assert.deepEqual(outputsFromWorker(body([{ name: 'p', data: [[0.5, 0.5]] }])), [{ name: 'p', datatype: 'FP64', shape: [1, 2], data: [0.5, 0.5] }]);
  assert.deepEqual(outputsFromWorker(body([{ name: 'p', datatype: 'FP32', shape: [2, 1], data: [1, 2] }])), [{ name: 'p', datatype: 'FP32', shape: [2, 1], data: [1, 2] }]);
  const declared = [{ name: 'p', datatype: 'FP32' as const, shape: [-1] }];
  assert.equal(outputsFromWorker(body([{ name: 'p', data: [1, 2] }]), declared)[0]?.datatype, 'FP32');
  const bad = (outputs: unknown, why: RegExp, decl = [] as typeof declared): void => {
    assert.throws(() => outputsFromWorker(body(outputs), decl), (err: unknown) => err instanceof OutputError && why.test(err.detail), String(why));
  };
  bad([{ name: 'p', datatype: 'INT8', shape: [2], data: [1, 2, 3] }], /output "p": shape \[2\] holds 2 elements, but the data has 3/);
  bad([{ name: 'p', datatype: 'INT8', data: [1, 300] }], /its data is ragged or does not fit INT8/);
  bad([{ name: 'p', data: [[1], [2, 3]] }], /output "p" is not a tensor/);
  bad([{ name: 'p', datatype: 'FP64', data: [1] }], /returned output "p" as FP64, but berth_signature declares FP32/, declared);
  bad([{ name: 'p', data: [[1]] }], /of shape \[1, 1\], but berth_signature declares \[-1\]/, declared);
  bad([{ name: 'p', data: [1] }, { name: 'p', data: [2] }], /the output "p" twice/);
  bad([{ data: [1] }], /output 0 has no "name"/);
  assert.throws(() => outputsFromWorker('{"output_error": "a BYTES element is not UTF-8 text"}'), /not UTF-8 text/);
});

test('the response object: the request id, the outputs asked for in their order, the version when there is one', () => {
  const outputs = [{ name: 'a', datatype: 'INT64' as const, shape: [1], data: [1] }, { name: 'b', datatype: 'BOOL' as const, shape: [1], data: [true] }];
  const model = { name: 'm', runtime: 'python' as const };
  assert.deepEqual(inferResponse(model, 'id-1', outputs, undefined), { model_name: 'm', id: 'id-1', outputs });
  assert.deepEqual(inferResponse({ ...model, version: '2' }, 'id-1', outputs, [{ name: 'b' }, { name: 'a' }]).outputs.map((o) => o.name), ['b', 'a']);
  assert.equal(inferResponse({ ...model, version: '2' }, 'id-1', outputs, undefined).model_version, '2');
  assert.throws(() => inferResponse(model, 'id', outputs, [{ name: 'c' }]), /unknown output "c" requested: the model produced "a", "b"/);
  const wire = JSON.parse(workerInferBody(parseInferRequest(request(input())), 'req-9')) as { id: string; outputs: null; inputs: Array<{ data: number[] }> };
  assert.equal(wire.id, 'req-9', 'without an id of its own, the request id names the request');
  assert.equal(wire.outputs, null);
  assert.deepEqual(wire.inputs[0]?.data, [1, 2, 3, 4]);
});

test('berth_signature: parsed strictly, checked against requests, reported as metadata; undeclared lists no tensors', () => {
  const sig = parseSignature({ infer: true, signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'y', datatype: 'INT64', shape: [-1] }] } });
  assert.ok(sig.ok);
  const signature = sig.signature;
  checkAgainstSignature(parseInferRequest(request(input({ shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }))), signature);
  const refused = (r: unknown, why: RegExp): void => assert.throws(() => checkAgainstSignature(parseInferRequest(r), signature), why);
  refused(request(input({ datatype: 'FP64' })), /input "x": datatype FP64 does not match the model's FP32/);
  refused(request(input({ shape: [1, 4] })), /input "x": shape \[1, 4\] does not match the model's \[-1, 2\]/);
  refused(request(input({ shape: [4], data: [1, 2, 3, 4] })), /shape \[4\] does not match/);
  refused(request(input({ name: 'z' })), /unexpected input "z": the model takes "x"/);
  refused({ inputs: [input()], outputs: [{ name: 'nope' }] }, /unknown output "nope" requested: the model produces "y"/);
  assert.deepEqual(modelMetadata({ name: 'm', runtime: 'python' }, signature), { name: 'm', platform: 'berth_python', inputs: signature.inputs, outputs: signature.outputs });
  assert.deepEqual(modelMetadata({ name: 'm', version: '1', runtime: 'js' }, {}), { name: 'm', versions: ['1'], platform: 'berth_js', inputs: [], outputs: [] });
  const invalid = (signatureValue: unknown, why: RegExp): void => {
    const r = parseSignature({ infer: false, signature: signatureValue });
    assert.ok(!r.ok && why.test(r.detail), `${JSON.stringify(signatureValue)}: ${r.ok ? 'accepted' : r.detail}`);
  };
  invalid({ inputs: [{ name: 'x', datatype: 'float32', shape: [1] }] }, /inputs\.0\.datatype/);
  invalid({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-2] }] }, /inputs\.0\.shape\.0/);
  invalid({ input: [] }, /berth_signature/);
  invalid({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }, { name: 'y', datatype: 'FP32', shape: [1] }] }, /"y" is declared twice/);
  const unreadable = parseSignature({ infer: false, signatureError: 'berth_signature is not plain JSON data: dtype' });
  assert.ok(!unreadable.ok);
});

test('protocol paths: health, server and model metadata, versions, ready and infer; anything else is no route', () => {
  assert.deepEqual(matchOipPath('/v2'), { kind: 'server' });
  assert.deepEqual(matchOipPath('/v2/'), { kind: 'server' });
  assert.deepEqual(matchOipPath('/v2/health/live'), { kind: 'live' });
  assert.deepEqual(matchOipPath('/v2/health/ready'), { kind: 'ready' });
  assert.deepEqual(matchOipPath('/v2/models/m'), { kind: 'model', model: 'm' });
  assert.deepEqual(matchOipPath('/v2/models/m/versions/3'), { kind: 'model', model: 'm', version: '3' });
  assert.deepEqual(matchOipPath('/v2/models/m/ready'), { kind: 'model-ready', model: 'm' });
  assert.deepEqual(matchOipPath('/v2/models/my%20m/versions/3/infer'), { kind: 'infer', model: 'my m', version: '3' });
  for (const p of ['/v2/health', '/v2/health/other', '/v2/models', '/v2/models/m/versions', '/v2/models/m/explain', '/v2/models/%E0/infer', '/v2x', '/v3']) {
    assert.equal(matchOipPath(p), undefined, p);
  }
});
