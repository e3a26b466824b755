// berth serve speaks the Open Inference Protocol v2 as a v2 client drives it: health, metadata, infer() with and without numpy, the run() fallback, binary data, errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanup, tempDir } from '../helpers/control-plane.js';
import { gate } from '../helpers/gate.js';
import { fixture, get, post, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { until } from '../helpers/services.js';

after(cleanup);

interface Output { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: Record<string, unknown> }
interface InferResponse { model_name: string; model_version?: string; id: string; outputs: Output[] }
interface ErrorBody { error: string; code: string; request_id: string }

const x23 = { name: 'x', shape: [2, 3], datatype: 'FP32', data: [[1, 2, 3], [4, 5, 6.5]] };
const infer = (url: string, body: unknown, headers: Record<string, string> = {}) => post(url, JSON.stringify(body), headers);

/** The protocol's error body: `error` says what is wrong; berth's code and the request id (also in the header) are beside it. */
function assertProtocolError(res: { status: number; headers: Headers; json: unknown }, status: number, code: string, error: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.json));
  const body = res.json as ErrorBody;
  assert.equal(body.code, code);
  assert.match(body.error, error);
  assert.equal(body.request_id, res.headers.get('x-request-id'));
}

describe('infer() with numpy (oip_infer_score.py)', () => {
  let server: ServeProcess;
  let model: string;
  before(async () => {
    server = await startServe(['--entry-script', fixture('oip_infer_score.py')]);
    model = `${server.url}/v2/models/oip_infer_score`;
  });
  after(async () => { await server.stop(); });

  test('health, server metadata and model metadata from the declared berth_signature', async () => {
    assert.deepEqual((await get(`${server.url}/v2/health/live`)).json, { live: true });
    assert.deepEqual((await get(`${server.url}/v2/health/ready`)).json, { ready: true });
    const meta = await get(`${server.url}/v2`);
    assert.equal(meta.status, 200);
    assert.deepEqual(Object.keys(meta.json as object).sort(), ['extensions', 'name', 'version']);
    assert.deepEqual((meta.json as { extensions: string[] }).extensions, ['binary_tensor_data']);
    const m = await get(model);
    assert.deepEqual(m.json, {
      name: 'oip_infer_score', platform: 'berth_python',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [{ name: 'sum', datatype: 'FP32', shape: [-1] }, { name: 'label', datatype: 'BYTES', shape: [-1] }, { name: 'backend', datatype: 'BYTES', shape: [1] }],
    });
    assert.deepEqual((await get(`${model}/ready`)).json, { name: 'oip_infer_score', ready: true });
  });

  test('infer() gets numpy arrays and its arrays come back as tensors, with the request id as id when none is given', async () => {
    const res = await infer(`${model}/infer`, { id: 'req-42', inputs: [x23] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {
      model_name: 'oip_infer_score', id: 'req-42',
      outputs: [
        { name: 'sum', datatype: 'FP32', shape: [2], data: [6, 15.5] },
        { name: 'label', datatype: 'BYTES', shape: [2], data: ['small', 'big'] },
        { name: 'backend', datatype: 'BYTES', shape: [1], data: ['numpy float32 ndarray'] },
      ],
    });
    const noId = await infer(`${model}/infer`, { inputs: [{ ...x23, data: [1, 2, 3, 4, 5, 6] }], outputs: [{ name: 'label' }] }, { 'x-request-id': 'client-7' });
    assert.equal((noId.json as InferResponse).id, 'client-7');
    assert.deepEqual((noId.json as InferResponse).outputs.map((o) => o.name), ['label'], 'only the output asked for');
  });

  test('shape and datatype mismatches get 400 with the protocol error body', async () => {
    assertProtocolError(await infer(`${model}/infer`, { inputs: [{ ...x23, data: [1, 2, 3, 4, 5] }] }), 400, 'OIP_BAD_REQUEST', /input "x": shape \[2, 3\] holds 6 elements, but the data has 5/);
    assertProtocolError(await infer(`${model}/infer`, { inputs: [{ ...x23, datatype: 'INT32', data: [1, 2, 3, 4, 5, 6] }] }), 400, 'OIP_BAD_REQUEST', /input "x": datatype INT32 does not match the model's FP32/);
    assertProtocolError(await infer(`${model}/infer`, { inputs: [{ ...x23, shape: [3, 2] }] }), 400, 'OIP_BAD_REQUEST', /shape \[3, 2\] does not match the model's \[-1, 3\]/);
    assertProtocolError(await infer(`${model}/infer`, { inputs: [{ ...x23, data: [1, 2, 3, 4, 5, 'six'] }] }), 400, 'OIP_BAD_REQUEST', /element 5 \(row-major\) does not fit FP32: "six" is not a number/);
    assertProtocolError(await infer(`${model}/infer`, { inputs: [{ ...x23, datatype: 'FLOAT' }] }), 400, 'OIP_BAD_REQUEST', /unknown datatype "FLOAT"/);
    assertProtocolError(await infer(`${model}/infer`, { inputs: [{ ...x23, name: 'y' }] }), 400, 'OIP_BAD_REQUEST', /unexpected input "y"/);
    assertProtocolError(await post(`${model}/infer`, '{"inputs": ['), 400, 'OIP_BAD_REQUEST', /the body is not JSON/);
  });

  test('an unknown model or version is 404, a wrong method 405, another /v2 path 404: all in the protocol form', async () => {
    const unknown = await get(`${server.url}/v2/models/other`, { 'x-request-id': 'r-404' });
    assertProtocolError(unknown, 404, 'OIP_MODEL_NOT_FOUND', /no model "other" here: this server serves "oip_infer_score" \(without versions\)/);
    assert.equal(unknown.headers.get('x-request-id'), 'r-404');
    assertProtocolError(await infer(`${server.url}/v2/models/other/infer`, { inputs: [x23] }), 404, 'OIP_MODEL_NOT_FOUND', /no model "other"/);
    assertProtocolError(await get(`${model}/versions/1`), 404, 'OIP_MODEL_NOT_FOUND', /"oip_infer_score" version "1"/);
    assertProtocolError(await get(`${model}/infer`), 405, 'METHOD_NOT_ALLOWED', /method GET is not allowed/);
    assertProtocolError(await get(`${server.url}/v2/repository/index`), 404, 'NOT_FOUND', /no route for GET \/v2\/repository\/index/);
  });

  test('infer() raising is 500 INFER_FAILED with its traceback in the log; an output that is no tensor is 500 OIP_BAD_OUTPUT', async () => {
    const failed = await infer(`${model}/infer`, { parameters: { fail: true }, inputs: [x23] });
    assertProtocolError(failed, 500, 'INFER_FAILED', /infer\(\) raised in the entry script/);
    const logged = await server.waitForLog((l) => l.request_id === (failed.json as ErrorBody).request_id && String(l.msg).startsWith('infer() raised'));
    assert.match(String(logged.traceback), /ValueError: asked to fail/);
    assertProtocolError(await infer(`${model}/infer`, { parameters: { bad_output: true }, inputs: [x23] }), 500, 'OIP_BAD_OUTPUT', /output "sum" is not a tensor/);
  });

  test('binary tensor data: an FP32 input after the JSON, and the output asked for as binary', async () => {
    const floats = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6.5]).buffer);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: floats.length } }],
      outputs: [{ name: 'sum', parameters: { binary_data: true } }, { name: 'label' }],
    }));
    const res = await fetch(`${model}/infer`, {
      method: 'POST', body: new Uint8Array(Buffer.concat([header, floats])),
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    const json = JSON.parse(body.subarray(0, jsonLength).toString('utf8')) as InferResponse;
    assert.deepEqual(json.outputs, [
      { name: 'sum', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['small', 'big'] },
    ]);
    const tail = body.subarray(jsonLength);
    assert.deepEqual([tail.readFloatLE(0), tail.readFloatLE(4)], [6, 15.5]);
  });

  test('infer requests are counted with scoring requests in the metrics', async () => {
    const metrics = (await get(`${server.url}/metrics`)).text;
    const count = (status: number): number => Number(new RegExp(`berth_requests_total\\{status="${status}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.ok(count(200) >= 3 && count(400) >= 7 && count(500) >= 2, metrics);
  });
});

describe('infer() without numpy (a Python without it): nested lists in and out', () => {
  let server: ServeProcess;
  before(async () => {
    const venv = join(tempDir('berth-oip-venv-'), 'venv');
    execFileSync('python3', ['-m', 'venv', '--without-pip', venv], { timeout: 60_000 });
    server = await startServe(['--entry-script', fixture('oip_infer_score.py'), '--python', join(venv, 'bin', 'python'), '--model-name', 'summer']);
  });
  after(async () => { await server.stop(); });

  test('inputs arrive as nested lists; list outputs take the declared datatypes', async () => {
    const res = await infer(`${server.url}/v2/models/summer/infer`, { inputs: [{ ...x23, data: [1, 2, 3, 4, 5, 6.5] }] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((res.json as InferResponse).outputs, [
      { name: 'sum', datatype: 'FP32', shape: [2], data: [6, 15.5] },
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['small', 'big'] },
      { name: 'backend', datatype: 'BYTES', shape: [1], data: ['list list'] },
    ]);
    assert.equal((res.json as InferResponse).model_name, 'summer');
  });
});

describe('the run() fallback (oip_run_score.py, no infer(); --model-name classic --model-version 7)', () => {
  let server: ServeProcess;
  let model: string;
  before(async () => {
    server = await startServe(['--entry-script', fixture('oip_run_score.py'), '--model-name', 'classic', '--model-version', '7']);
    model = `${server.url}/v2/models/classic`;
  });
  after(async () => { await server.stop(); });

  test('metadata lists no tensors (nothing declared) and the one version', async () => {
    assert.deepEqual((await get(model)).json, { name: 'classic', versions: ['7'], platform: 'berth_python', inputs: [], outputs: [] });
    assert.equal((await get(`${model}/versions/7/ready`)).status, 200);
    assertProtocolError(await get(`${model}/versions/8`), 404, 'OIP_MODEL_NOT_FOUND', /serves "classic" version "7"/);
  });

  test('the one input goes to run() as {"data": nested}; a list result is output-0 with its shape', async () => {
    const res = await infer(`${model}/versions/7/infer`, { inputs: [{ name: 'rows', shape: [2, 2], datatype: 'INT64', data: [1, 2, 3, 4] }] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {
      model_name: 'classic', model_version: '7', id: res.headers.get('x-request-id'),
      outputs: [{ name: 'output-0', datatype: 'INT64', shape: [2], data: [3, 7] }],
    });
    const scalar = await infer(`${model}/infer`, { inputs: [{ name: 'v', shape: [1], datatype: 'FP64', data: [2.5] }] });
    assert.deepEqual((scalar.json as InferResponse).outputs, [{ name: 'output-0', datatype: 'FP64', shape: [1], data: [2.5] }]);
  });

  test('a dict result is one BYTES element holding its JSON text', async () => {
    const res = await infer(`${model}/infer`, { inputs: [{ name: 'words', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }] });
    assert.deepEqual((res.json as InferResponse).outputs, [{ name: 'output-0', datatype: 'BYTES', shape: [1], data: ['{"echo": ["a", "b"]}'] }]);
  });

  test('more than one input, or another output, is 400; run() raising is 500 RUN_FAILED', async () => {
    const one = { name: 'a', shape: [1], datatype: 'FP64', data: [1] };
    assertProtocolError(await infer(`${model}/infer`, { inputs: [one, { ...one, name: 'b' }] }), 400, 'OIP_BAD_REQUEST', /defines no infer\(\), so it takes exactly one input/);
    assertProtocolError(await infer(`${model}/infer`, { inputs: [one], outputs: [{ name: 'probs' }] }), 400, 'OIP_BAD_REQUEST', /run\(\)'s result is the one output "output-0"/);
    assertProtocolError(await infer(`${model}/infer`, { inputs: [{ name: 't', shape: [], datatype: 'BYTES', data: ['fail'] }] }), 500, 'RUN_FAILED', /run\(\) raised/);
  });
});

test('a JS entry script with infer(): nested arrays in, a typed array and lists out', async (t) => {
  const server = await startServe(['--entry-script', fixture('oip_infer_score.mjs')]);
  t.after(() => server.stop());
  const res = await infer(`${server.url}/v2/models/oip_infer_score/infer`, { inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP64', data: [1, 2, 3, 4.5] }] });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual((res.json as InferResponse).outputs, [
    { name: 'scaled', datatype: 'FP64', shape: [2, 2], data: [2, 4, 6, 9] },
    { name: 'first', datatype: 'FP32', shape: [2], data: [1, 3] },
  ]);
  assert.equal(((await get(`${server.url}/v2/models/oip_infer_score`)).json as { platform: string }).platform, 'berth_js');
});

test('readiness follows init(): /v2/health/ready and the model ready answer 503 until init() returns, live at once', async (t) => {
  const g = gate();
  const server = await startServe(['--entry-script', fixture('gated_init.py')], { env: { BERTH_TEST_RELEASE_FILE: g.path }, waitFor: 'probes' });
  t.after(() => server.stop());
  await until(async () => ((await get(`${server.url}/ready`)).json as { phase?: string }).phase === 'init' || undefined, 30_000, 'phase init');
  assert.deepEqual((await get(`${server.url}/v2/health/live`)).json, { live: true });
  const starting = await get(`${server.url}/v2/health/ready`);
  assertProtocolError(starting, 503, 'NOT_READY', /no worker is ready yet/);
  assert.equal((starting.json as { ready: boolean }).ready, false);
  assert.equal((await get(`${server.url}/v2/models/gated_init/ready`)).status, 503);
  assertProtocolError(await infer(`${server.url}/v2/models/gated_init/infer`, { inputs: [x23] }), 503, 'NOT_READY', /no worker is ready yet/);
  g.release();
  await until(async () => (await get(`${server.url}/v2/health/ready`)).status === 200 || undefined, 30_000, 'ready after the release');
  assert.deepEqual((await get(`${server.url}/v2/models/gated_init/ready`)).json, { name: 'gated_init', ready: true });
});
