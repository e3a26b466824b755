// The Open Inference Protocol through the gateway of a deployed service: /api/v1/service/NAME/v2/..., the service name as the model name, the same auth as /score.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { bearer, fixture, startPlane, stopPlane } from '../helpers/services.js';

after(cleanup);

interface Keys { primary_key: string }

test('a v2 client through the gateway: 401 without the key, 200 with it; metadata, readiness and infer under the service prefix', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'tensors', '--source-dir', fixture('.'), '--entry-script', 'oip_infer_score.py', '--replicas', '1']);
  const keys = JSON.parse(await plane.ok(['service', 'keys', 'tensors', '-o', 'json'])) as Keys;
  const base = `${plane.url}/api/v1/service/tensors/v2`;
  const request = { id: 'g-1', inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
  const call = async (path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> => {
    const res = await fetch(`${base}${path}`, {
      method: init.body === undefined ? 'GET' : 'POST',
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      headers: { 'content-type': 'application/json', ...init.headers },
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
  };

  // --- the same auth as /score, on every v2 route: no key is 401, in the protocol's error form.
  for (const path of ['/models/tensors/infer', '/models/tensors', '/health/ready', '']) {
    const denied = await call(path, { ...(path.endsWith('/infer') ? { body: request } : {}), headers: { 'x-request-id': 'no-key' } });
    assert.equal(denied.status, 401, path);
    assert.equal(denied.json.code, 'SCORING_UNAUTHORIZED');
    assert.match(String(denied.json.error), /no Authorization header/);
    assert.equal(denied.json.request_id, 'no-key');
    assert.equal(denied.headers.get('x-request-id'), 'no-key');
  }
  const auth = bearer(keys.primary_key);
  assert.equal((await call('/models/tensors/infer', { body: request, headers: { authorization: `Bearer ${keys.primary_key}x` } })).status, 401);

  // --- with the key: the service name is the model name.
  const ok = await call('/models/tensors/infer', { body: request, headers: auth });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.deepEqual(ok.json, {
    model_name: 'tensors', id: 'g-1',
    outputs: [
      { name: 'sum', datatype: 'FP32', shape: [1], data: [6] },
      { name: 'label', datatype: 'BYTES', shape: [1], data: ['small'] },
      { name: 'backend', datatype: 'BYTES', shape: [1], data: ['numpy float32 ndarray'] },
    ],
  });
  assert.equal((await call('/models/tensors', { headers: auth })).json.name, 'tensors');
  assert.deepEqual((await call('/models/tensors/ready', { headers: auth })).json, { name: 'tensors', ready: true });
  assert.deepEqual((await call('/health/ready', { headers: auth })).json, { ready: true });
  assert.deepEqual((await call('/health/live', { headers: auth })).json, { live: true });
  assert.equal((await call('', { headers: auth })).json.name, 'berth');

  // --- the binary tensor data extension passes through the gateway both ways (its length header too).
  const floats = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6.5]).buffer);
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: floats.length } }],
    outputs: [{ name: 'sum', parameters: { binary_data: true } }],
  }));
  const binary = await fetch(`${base}/models/tensors/infer`, {
    method: 'POST', body: new Uint8Array(Buffer.concat([header, floats])),
    headers: { ...auth, 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    signal: AbortSignal.timeout(30_000),
  });
  assert.equal(binary.status, 200);
  const binaryBody = Buffer.from(await binary.arrayBuffer());
  const jsonLength = Number(binary.headers.get('inference-header-content-length'));
  assert.ok(jsonLength > 0 && jsonLength < binaryBody.length, `header length ${jsonLength} of ${binaryBody.length} bytes`);
  assert.deepEqual((JSON.parse(binaryBody.subarray(0, jsonLength).toString('utf8')) as { outputs: unknown }).outputs, [{ name: 'sum', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }]);
  const tail = binaryBody.subarray(jsonLength);
  assert.deepEqual([tail.readFloatLE(0), tail.readFloatLE(4)], [6, 15.5]);

  // --- the replica's protocol errors pass through; a model other than the service is 404; a service that does not exist too.
  const mismatch = await call('/models/tensors/infer', { body: { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2] }] }, headers: auth });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.json.code, 'OIP_BAD_REQUEST');
  assert.match(String(mismatch.json.error), /shape \[1, 3\] holds 3 elements, but the data has 2/);
  const wrongType = await call('/models/tensors/infer', { body: { inputs: [{ name: 'x', shape: [1, 3], datatype: 'INT32', data: [1, 2, 3] }] }, headers: auth });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.json.code, 'OIP_BAD_REQUEST');
  assert.match(String(wrongType.json.error), /datatype INT32 does not match the model's FP32/);
  const unfit = await call('/models/tensors/infer', { body: { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 'two', 3] }] }, headers: auth });
  assert.equal(unfit.status, 400);
  assert.match(String(unfit.json.error), /element 1 \(row-major\) does not fit FP32/);
  const raised = await call('/models/tensors/infer', { body: { ...request, parameters: { fail: true } }, headers: auth });
  assert.equal(raised.status, 502, 'infer() raising is the replica\'s 500, which the gateway answers 502 as for /score');
  assert.equal(raised.json.code, 'INFER_FAILED');
  assert.match(String(raised.json.error), /infer\(\) raised in the entry script/);
  const other = await call('/models/other/infer', { body: request, headers: auth });
  assert.equal(other.status, 404);
  assert.equal(other.json.code, 'OIP_MODEL_NOT_FOUND');
  assert.match(String(other.json.error), /other/);
  const missing = await fetch(`${plane.url}/api/v1/service/nosuch/v2/models/nosuch`, { headers: auth });
  assert.equal(missing.status, 404);
  const missingBody = (await missing.json()) as Record<string, unknown>;
  assert.equal(missingBody.code, 'SERVICE_NOT_FOUND');
  assert.equal(typeof missingBody.error, 'string');

  // --- a replica answers v2 infer only to the gateway (its key), as it does /score.
  const replica = (await plane.show('tensors')).replicas[0];
  assert.ok(replica !== undefined);
  const direct = await fetch(`${replica.url}/v2/models/tensors/infer`, { method: 'POST', body: JSON.stringify(request), headers: { 'content-type': 'application/json' } });
  assert.equal(direct.status, 401);
  assert.equal(((await direct.json()) as Record<string, unknown>).code, 'REPLICA_UNAUTHORIZED');
});
