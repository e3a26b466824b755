// materializeModels: the classic AZUREML_MODEL_DIR layouts, read-only, hard-linked to the blobs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { materializeModels, removeMaterialized, type MountableModel } from '../../src/control/materialize.js';
import { BerthError } from '../../src/errors/catalogue.js';

const root = mkdtempSync(join(tmpdir(), 'berth-mat-'));
after(async () => {
  for (const t of ['one', 'several', 'twice', 'exists']) await removeMaterialized(join(root, t));
  rmSync(root, { recursive: true, force: true });
});

function blob(name: string, content: string): string {
  mkdirSync(join(root, 'blobs'), { recursive: true });
  const p = join(root, 'blobs', name);
  writeFileSync(p, content, { mode: 0o444 });
  return p;
}

const weights = blob('w', '{"w": [1, 2]}');
const vocab = blob('v', 'a\nb\n');
const scaler = blob('s', 'scaler');
const sumModel: MountableModel = { name: 'sum-model', version: 2, files: [{ path: 'outputs/weights.json', source: weights }, { path: 'outputs/vocab/words.txt', source: vocab }] };
const scalerModel: MountableModel = { name: 'scaler', version: 1, files: [{ path: 'scaler.pkl', source: scaler }] };

test('one model: AZUREML_MODEL_DIR is its version folder, files under their registered paths', async () => {
  const { modelDir } = await materializeModels([sumModel], join(root, 'one'));
  assert.equal(modelDir, join(root, 'one', 'azureml-models', 'sum-model', '2'));
  assert.equal(readFileSync(join(modelDir, 'outputs', 'weights.json'), 'utf8'), '{"w": [1, 2]}');
  assert.equal(readFileSync(join(modelDir, 'outputs', 'vocab', 'words.txt'), 'utf8'), 'a\nb\n');
});

test('several models: AZUREML_MODEL_DIR is azureml-models, holding <name>/<version>/<files>', async () => {
  const { modelDir } = await materializeModels([sumModel, scalerModel], join(root, 'several'));
  assert.equal(modelDir, join(root, 'several', 'azureml-models'));
  assert.ok(existsSync(join(modelDir, 'sum-model', '2', 'outputs', 'weights.json')));
  assert.equal(readFileSync(join(modelDir, 'scaler', '1', 'scaler.pkl'), 'utf8'), 'scaler');
});

test('files are hard links to the blobs (no copy), and files and folders are read-only', async () => {
  const modelDir = join(root, 'one', 'azureml-models', 'sum-model', '2');
  const file = join(modelDir, 'outputs', 'weights.json');
  assert.equal(statSync(file).ino, statSync(weights).ino);
  assert.equal(statSync(file).mode & 0o222, 0, 'file not writable');
  for (const d of [join(root, 'one', 'azureml-models'), join(root, 'one', 'azureml-models', 'sum-model'), modelDir, join(modelDir, 'outputs'), join(modelDir, 'outputs', 'vocab')]) {
    assert.equal(statSync(d).mode & 0o777, 0o555, `${d} is read-only`);
  }
});

test('the same model twice, or a target already laid out, is refused', async () => {
  await assert.rejects(materializeModels([scalerModel, scalerModel], join(root, 'twice')), (e: unknown) => e instanceof BerthError && /listed twice/.test(e.message));
  await materializeModels([scalerModel], join(root, 'exists'));
  await assert.rejects(materializeModels([scalerModel], join(root, 'exists')), (e: unknown) => e instanceof BerthError && /already exists/.test(e.message));
});

test('a path escaping the version folder is refused', async () => {
  const bad: MountableModel = { name: 'bad', version: 1, files: [{ path: '../../etc', source: scaler }] };
  await assert.rejects(materializeModels([bad], join(root, 'bad')), /bad model file path/);
  await removeMaterialized(join(root, 'bad'));
});

test('removeMaterialized removes the read-only tree and leaves the blobs', async () => {
  await removeMaterialized(join(root, 'several'));
  assert.ok(!existsSync(join(root, 'several', 'azureml-models')));
  assert.equal(readFileSync(weights, 'utf8'), '{"w": [1, 2]}');
});
