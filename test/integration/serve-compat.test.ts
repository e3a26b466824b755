// berth serve: classic entry scripts run unchanged (shims, request_headers, @rawhttp, AMLResponse, get_model_path), JS/TS scripts, env vars and aliases.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, get, post, startServe } from '../helpers/serve-process.js';

type Json = Record<string, unknown>;

async function withServer(args: string[], check: (url: string) => Promise<void>, env?: Record<string, string>): Promise<void> {
  const server = await startServe(args, env === undefined ? {} : { env });
  try {
    await check(server.url);
  } finally {
    await server.stop();
  }
}

describe('berth serve compatibility', () => {
  test('run(input_data, request_headers) receives the headers', () =>
    withServer(['--entry-script', fixture('headers_score.py')], async (url) => {
      const res = await post(`${url}/score`, '{"a": 1}', { 'x-echo': 'hello' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { echo: 'hello', echo_lower: 'hello', body: '{"a": 1}' });
    }));

  test('@rawhttp with the classic imports gets method, path, args and raw body; AMLResponse sets status and headers', () =>
    withServer(['--entry-script', fixture('rawhttp_score.py')], async (url) => {
      const posted = await post(`${url}/score?a=1&m=x&m=y`, '{"k": "v"}');
      assert.equal(posted.status, 201);
      assert.equal(posted.headers.get('x-berth-test'), 'raw');
      assert.deepEqual(posted.json, {
        method: 'POST', path: '/score', full_path: '/score?a=1&m=x&m=y', args: { a: '1', m: 'x' }, multi: ['x', 'y'],
        content_type: 'application/json', length: 10, json: { k: 'v' },
      });
      const got = await get(`${url}/score?name=berth`);
      assert.equal(got.status, 200);
      assert.equal((got.json as Json).method, 'GET');
      assert.deepEqual((got.json as Json).args, { name: 'berth' });
    }));

  test('an undecorated run() gets GET query parameters as a JSON string', () =>
    withServer(['--entry-script', fixture('headers_score.py')], async (url) => {
      const res = await get(`${url}/score?q=7&name=berth&m=1&m=2`);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(String((res.json as Json).body)), { q: 7, name: 'berth', m: [1, 2] });
    }));

  test('AMLResponse from run() sets the status code', () =>
    withServer(['--entry-script', fixture('aml_response_score.py')], async (url) => {
      const teapot = await post(`${url}/score`, '{"kind": "status"}');
      assert.equal(teapot.status, 418);
      assert.equal(teapot.text, 'teapot');
      assert.equal(teapot.headers.get('x-reason'), 'short and stout');
      const json = await post(`${url}/score`, '{"kind": "json"}');
      assert.deepEqual(json.json, { hello: 'world' });
      const bytes = await post(`${url}/score`, '{"kind": "bytes"}');
      assert.equal(bytes.headers.get('content-type'), 'image/png');
    }));

  test('Model.get_model_path resolves a model under --model-dir', () =>
    withServer(['--entry-script', fixture('model_score.py'), '--model-dir', fixture('models')], async (url) => {
      const res = await post(`${url}/score`, JSON.stringify({ data: [[1, 2], [3, 4]] }));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { result: [3, 7] });
    }));

  test('classic environment variables configure the server, and the underscore flags are accepted', async () => {
    await withServer([], async (url) => {
      const ready = (await get(`${url}/ready`)).json as { workers: unknown[] };
      assert.equal(ready.workers.length, 2);
    }, { AZUREML_ENTRY_SCRIPT: fixture('sum_score.py'), WORKER_COUNT: '2' });
    await withServer(['--entry_script', fixture('sum_score.py'), '--worker_count', '2'], async (url) => {
      const ready = (await get(`${url}/ready`)).json as { workers: unknown[] };
      assert.equal(ready.workers.length, 2);
      assert.deepEqual((await post(`${url}/score`, '{"data": [[1, 1]]}')).json, { result: [2] });
    });
  });

  test('a JS entry script (sync) serves /score', () =>
    withServer(['--entry-script', fixture('noop_score.js')], async (url) => {
      const res = await post(`${url}/score`, '{"x": 1}');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { ok: true });
    }));

  test('a TypeScript entry script with async init/run serves /score, and a throw is a 500', () =>
    withServer(['--entry-script', fixture('async_score.ts')], async (url) => {
      const res = await post(`${url}/score`, '{"values": [1, 2, 3]}');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { sum: 6 });
      const bad = await post(`${url}/score`, 'not json');
      assert.equal(bad.status, 500);
      assert.equal((bad.json as Json).code, 'RUN_FAILED');
    }));
});
