// The REST API in-process: input validation (malformed JSON, unknown fields, size limit), routing errors, the OpenAPI
// document, and the upload → commit flow over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { inProcessPlane } from '../helpers/in-process-plane.js';
import { runFilePath } from '../../src/control/runfile.js';
import { migrations } from '../../src/control/store/migrations.js';

const { home, plane: running } = inProcessPlane('berth-api-');

async function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' || body === undefined ? body : new Uint8Array(body);
  const res = await fetch(running().url + path, { method, body: payload, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

test('malformed JSON is 400 MALFORMED_JSON with message, code and request id', async () => {
  const r = await call('POST', '/v1/uploads', '{"name": ', { 'x-request-id': 'req-7' });
  assert.equal(r.status, 400);
  assert.equal(r.json?.code, 'MALFORMED_JSON');
  assert.equal(r.json?.request_id, 'req-7');
  assert.equal(typeof r.json?.message, 'string');
});

test('unknown fields and wrong types are 400 VALIDATION_FAILED naming the field', async () => {
  const unknown = await call('POST', '/v1/uploads', JSON.stringify({ name: 'm', colour: 'red' }));
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json?.code, 'VALIDATION_FAILED');
  assert.match(String(unknown.json?.message), /colour/);
  const badName = await call('POST', '/v1/uploads', JSON.stringify({ name: 'no spaces allowed' }));
  assert.equal(badName.status, 400);
  assert.match(String(badName.json?.message), /invalid name/);
  const badTags = await call('POST', '/v1/uploads', JSON.stringify({ name: 'm', tags: { k: 1 } }));
  assert.match(String(badTags.json?.message), /invalid tags\.k/);
  const empty = await call('POST', '/v1/uploads');
  assert.equal(empty.json?.code, 'VALIDATION_FAILED');
  const badQuery = await call('GET', '/v1/models?nme=x');
  assert.equal(badQuery.status, 400);
});

test('a JSON body over 1 MiB is 413 API_BODY_TOO_LARGE, and the server keeps serving', async () => {
  const r = await call('POST', '/v1/uploads', JSON.stringify({ name: 'm', description: 'x'.repeat(2 * 1024 * 1024) }));
  assert.equal(r.status, 413);
  assert.equal(r.json?.code, 'API_BODY_TOO_LARGE');
  assert.equal((await call('GET', '/v1/status')).status, 200);
});

test('unknown route 404 and wrong method 405 with Allow', async () => {
  const missing = await call('GET', '/v2/nothing');
  assert.equal(missing.status, 404);
  assert.equal(missing.json?.code, 'API_ROUTE_NOT_FOUND');
  const wrong = await call('PATCH', '/v1/models');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET');
  const badVersion = await call('GET', '/v1/models/m/versions/zero');
  assert.equal(badVersion.status, 400);
  assert.match(String(badVersion.json?.message), /positive whole number or "latest"/);
});

test('the OpenAPI document describes every route', async () => {
  const doc = (await call('GET', '/openapi.json')).json as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, '3.1.0');
  const ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
  for (const expected of [
    'GET /v1/status', 'GET /openapi.json', 'GET /v1/models', 'GET /v1/models/{name}/versions/{version}',
    'DELETE /v1/models/{name}/versions/{version}', 'GET /v1/models/{name}/versions/{version}/file',
    'POST /v1/uploads', 'PUT /v1/uploads/{upload_id}/files', 'POST /v1/uploads/{upload_id}/commit', 'DELETE /v1/uploads/{upload_id}',
  ]) assert.ok(ops.includes(expected), `${expected} documented`);
  const start = doc.paths['/v1/uploads']?.post as { requestBody: { content: Record<string, { schema: { additionalProperties: boolean } }> } };
  assert.equal(start.requestBody.content['application/json']?.schema.additionalProperties, false, 'unknown fields are documented as refused');
});

test('upload → commit over HTTP; a wrong announced sha256 refuses the file; the file downloads back', async () => {
  const content = Buffer.from('model bytes');
  const digest = createHash('sha256').update(content).digest('hex');
  const { json: started } = await call('POST', '/v1/uploads', JSON.stringify({ name: 'api-model', tags: { a: 'b' } }));
  const id = String(started?.upload_id);
  const put = (headers: Record<string, string>) => call('PUT', `/v1/uploads/${id}/files?path=${encodeURIComponent('dir/m.bin')}`, content, { 'content-type': 'application/octet-stream', ...headers });
  const wrong = await put({ 'x-berth-sha256': 'f'.repeat(64) });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json?.code, 'DIGEST_MISMATCH');
  const right = await put({ 'x-berth-sha256': digest });
  assert.deepEqual(right.json, { path: 'dir/m.bin', digest, size: content.length, created: true });
  const committed = await call('POST', `/v1/uploads/${id}/commit`, JSON.stringify({ files: [{ path: 'dir/m.bin', digest }] }));
  assert.equal(committed.status, 201);
  assert.equal(committed.json?.version, 1);
  const file = await fetch(`${running().url}/v1/models/api-model/versions/latest/file?path=dir%2Fm.bin`);
  assert.equal(file.headers.get('x-berth-sha256'), digest);
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), content);
  const again = await call('POST', `/v1/uploads/${id}/commit`, JSON.stringify({ files: [{ path: 'dir/m.bin', digest }] }));
  assert.equal(again.json?.code, 'UPLOAD_NOT_FOUND');
  const escape = await call('POST', '/v1/uploads', JSON.stringify({ name: 'x' }));
  const bad = await call('PUT', `/v1/uploads/${String(escape.json?.upload_id)}/files?path=..%2Fetc`, 'x');
  assert.equal(bad.status, 400);
});

test('status reports version, pid, url and counts; the run file names this process', async () => {
  const s = (await call('GET', '/v1/status')).json as { pid: number; url: string; models: { names: number }; services: number; schema_version: number };
  assert.equal(s.pid, process.pid);
  assert.equal(s.url, running().url);
  assert.equal(s.services, 0);
  assert.equal(s.schema_version, migrations.length);
  assert.ok(existsSync(runFilePath(home)));
});
