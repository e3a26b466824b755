// get_model_path from a real Python process against models registered through berth and laid out by materializeModels:
// found (latest), a given version, the classic azureml shim, and not-found naming the model, the folder and the listing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BlobStore } from '../../src/control/blobs.js';
import { materializeModels, type MountableModel } from '../../src/control/materialize.js';
import { cleanup, ok, repoRoot, tempDir, up } from '../helpers/control-plane.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SITE = join(repoRoot, 'src', 'inference', 'runtime', 'python', 'site');

let home: string;
const mount = async (refs: string[]): Promise<{ modelDir: string }> => {
  const blobs = new BlobStore(join(home, 'blobs'));
  const models: MountableModel[] = [];
  for (const ref of refs) {
    const v = JSON.parse(await ok(['model', 'show', ref, '-o', 'json'], home)) as { name: string; version: number; files: { path: string; digest: string }[] };
    models.push({ name: v.name, version: v.version, files: v.files.map((f) => ({ path: f.path, source: blobs.pathOf(f.digest) })) });
  }
  return materializeModels(models, tempDir('berth-replica-'));
};

/** Runs `code` in Python with AZUREML_MODEL_DIR set and the shims on the path; returns its stdout's JSON. */
async function python(modelDir: string, code: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(PYTHON, ['-c', code], {
    cwd: tempDir('berth-cwd-'), // no ./azureml-models fallback to hide a wrong answer
    env: { PATH: process.env.PATH ?? '', AZUREML_MODEL_DIR: modelDir, PYTHONPATH: SITE },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const PROBE = (call: string) => `
import json, berth
from azureml.core.model import Model
try:
    p = ${call}
    print(json.dumps({"path": p, "content": open(p).read() if not __import__("os").path.isdir(p) else None}))
except Exception as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
`;

before(async () => {
  home = tempDir();
  const src = tempDir('berth-src-');
  writeFileSync(join(src, 'weights.json'), '{"v": 1}');
  mkdirSync(join(src, 'v2'));
  writeFileSync(join(src, 'v2', 'weights.json'), '{"v": 2}');
  mkdirSync(join(src, 'outputs'));
  writeFileSync(join(src, 'outputs', 'scaler.pkl'), 'scaler');
  writeFileSync(join(src, 'outputs', 'labels.txt'), 'cat\ndog\n');
  await up(home);
  assert.equal(await ok(['model', 'register', '--name', 'sum-model', '--path', join(src, 'weights.json')], home), 'sum-model:1\n');
  assert.equal(await ok(['model', 'register', '--name', 'sum-model', '--path', join(src, 'v2', 'weights.json')], home), 'sum-model:2\n');
  assert.equal(await ok(['model', 'register', '--name', 'scaler', '--path', join(src, 'outputs')], home), 'scaler:1\n');
});
after(cleanup);

test('one model mounted: AZUREML_MODEL_DIR is its version folder, and both helpers find the file in it', async () => {
  const { modelDir } = await mount(['sum-model:2']);
  assert.match(modelDir, /azureml-models\/sum-model\/2$/);
  const viaBerth = await python(modelDir, PROBE("berth.get_model_path('sum-model')"));
  assert.deepEqual(viaBerth, { path: join(modelDir, 'weights.json'), content: '{"v": 2}' });
  const viaShim = await python(modelDir, PROBE("Model.get_model_path('sum-model')"));
  assert.deepEqual(viaShim, viaBerth);
  const given = await python(modelDir, PROBE("berth.get_model_path('sum-model', version=2)"));
  assert.equal(given.content, '{"v": 2}');
});

test('several models mounted: latest by default, the given version when asked, a folder model as its folder', async () => {
  const { modelDir } = await mount(['sum-model:1', 'sum-model:2', 'scaler:1']);
  assert.match(modelDir, /azureml-models$/);
  const latest = await python(modelDir, PROBE("berth.get_model_path('sum-model')"));
  assert.deepEqual(latest, { path: join(modelDir, 'sum-model', '2', 'weights.json'), content: '{"v": 2}' });
  const v1 = await python(modelDir, PROBE("Model.get_model_path('sum-model', version=1)"));
  assert.deepEqual(v1, { path: join(modelDir, 'sum-model', '1', 'weights.json'), content: '{"v": 1}' });
  const folder = await python(modelDir, PROBE("berth.get_model_path('scaler')"));
  assert.deepEqual(folder, { path: join(modelDir, 'scaler', '1', 'outputs'), content: null });
});

test('not found: the error names the model, the folder searched, and every model:version mounted', async () => {
  const { modelDir } = await mount(['sum-model:1', 'sum-model:2', 'scaler:1']);
  const missing = await python(modelDir, PROBE("berth.get_model_path('fraud-model')"));
  assert.equal(missing.error, 'ModelNotFoundError');
  const message = String(missing.message);
  assert.match(message, /'fraud-model'/);
  assert.ok(message.includes(modelDir), `names the folder: ${message}`);
  for (const mounted of ['sum-model:1', 'sum-model:2', 'scaler:1']) assert.ok(message.includes(mounted), `lists ${mounted}: ${message}`);
  const wrongVersion = await python(modelDir, PROBE("Model.get_model_path('sum-model', version=7)"));
  assert.equal(wrongVersion.error, 'ModelNotFoundError');
  assert.match(String(wrongVersion.message), /version 7/);
  assert.ok(String(wrongVersion.message).includes(join(modelDir, 'sum-model', '7')), 'names the folder it looked in');
});
