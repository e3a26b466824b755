// Paths are checked where they enter berth: a NUL byte, a path over PATH_MAX or a name over NAME_MAX is refused naming
// its field (environment python/base_dir, deployment entry_script/source_dir, model file paths, serve's --python).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { NAME_MAX_BYTES, PATH_MAX_BYTES, pathProblem } from '../../src/core/fs-path.js';
import { createEnvironmentSchema } from '../../src/control/environments/env-schema.js';
import { pythonProbe } from '../../src/control/environments/interpreter.js';
import { deployRequestSchema, parseWith } from '../../src/control/services/spec.js';
import { modelFilePathSchema } from '../../src/control/model-schema.js';
import { parseServeSettings } from '../../src/inference/settings.js';
import { BerthError } from '../../src/errors/catalogue.js';

const script = fileURLToPath(new URL('../fixtures/sum_score.py', import.meta.url));
const emoji = '😀'.repeat(1000);

function refuses(fn: () => unknown, code: string, field: string, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BerthError, String(e));
    assert.equal(e.code, code);
    assert.ok(e.message.includes(field), `"${e.message}" names ${field}`);
    assert.match(e.message, detail);
    return true;
  });
}

test('pathProblem: NUL bytes, the whole path in bytes, and each name in bytes', () => {
  assert.equal(pathProblem('/usr/bin/python3'), undefined);
  assert.match(pathProblem('/usr/bin/py\0thon') ?? '', /NUL/);
  assert.equal(pathProblem(`/${'a'.repeat(NAME_MAX_BYTES)}`), undefined);
  assert.match(pathProblem(`/${'a'.repeat(NAME_MAX_BYTES + 1)}`) ?? '', /at most 255/);
  assert.match(pathProblem(emoji) ?? '', /4000 bytes.*at most 255/, 'emoji count 4 bytes each');
  const long = Array.from({ length: 20 }, () => 'b'.repeat(250)).join('/');
  assert.match(pathProblem(long) ?? '', new RegExp(`at most ${PATH_MAX_BYTES}`));
  assert.equal(pathProblem(long.slice(0, PATH_MAX_BYTES)), undefined);
});

test('POST /v1/environments body: python with a NUL byte or 1,000 emoji is refused naming python', () => {
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', python: '/usr/bin/python3\0' }), 'VALIDATION_FAILED', 'python', /NUL/);
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', python: emoji }), 'VALIDATION_FAILED', 'python', /at most 255/);
  assert.equal(parseWith(createEnvironmentSchema, { name: 'sk', python: '/usr/bin/python3' }).python, '/usr/bin/python3');
});

test('environments: base_dir, pip options and the files refuse what would break pip or fs calls', () => {
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', base_dir: '/srv/\0' }), 'VALIDATION_FAILED', 'base_dir', /NUL/);
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', base_dir: `/${'x'.repeat(300)}` }), 'VALIDATION_FAILED', 'base_dir', /at most 255/);
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', base_dir: 'relative' }), 'VALIDATION_FAILED', 'base_dir', /absolute/);
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', pip: { find_links: ['/wheels\0'] } }), 'VALIDATION_FAILED', 'pip.find_links.0', /NUL/);
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', pip: { index_url: 'http://x\0' } }), 'VALIDATION_FAILED', 'pip.index_url', /NUL/);
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', requirements: 'numpy\0' }), 'VALIDATION_FAILED', 'requirements', /NUL/);
  refuses(() => parseWith(createEnvironmentSchema, { name: 'sk', package_json: '{"a":"\0"}' }), 'VALIDATION_FAILED', 'package_json', /NUL/);
});

test('the interpreter probe turns a path execFile cannot even try into ENVIRONMENT_SPEC_INVALID, not a raw error', async () => {
  const probe = pythonProbe({ PATH: '/usr/bin:/bin' });
  await assert.rejects(probe('py\0thon'), (e: unknown) => e instanceof BerthError && e.code === 'ENVIRONMENT_SPEC_INVALID' && /--python/.test(e.message));
  await assert.rejects(probe(emoji), (e: unknown) => e instanceof BerthError && e.code === 'ENVIRONMENT_SPEC_INVALID');
});

test('deployments: entry_script and source_dir with a NUL byte or an over-long name are refused naming the field', () => {
  refuses(() => parseWith(deployRequestSchema, { name: 'svc', entry_script: '/srv/score.py\0' }), 'VALIDATION_FAILED', 'entry_script', /NUL/);
  refuses(() => parseWith(deployRequestSchema, { name: 'svc', entry_script: `/srv/${emoji}.py` }), 'VALIDATION_FAILED', 'entry_script', /at most 255/);
  refuses(() => parseWith(deployRequestSchema, { name: 'svc', entry_script: 'score.py', source_dir: '/srv\0' }), 'VALIDATION_FAILED', 'source_dir', /NUL/);
  refuses(() => parseWith(deployRequestSchema, { name: 'svc', entry_script: 'score.py', source_dir: `/${'d'.repeat(256)}` }), 'VALIDATION_FAILED', 'source_dir', /at most 255/);
});

test('model file paths: an over-long name is refused like a NUL byte (they are laid out on disk at deploy)', () => {
  assert.equal(modelFilePathSchema.safeParse('weights/model.bin').success, true);
  assert.equal(modelFilePathSchema.safeParse(`weights/${'w'.repeat(256)}`).success, false);
  assert.equal(modelFilePathSchema.safeParse('weights/\0').success, false);
});

test('berth serve: --python and --model-dir must be usable paths', () => {
  refuses(() => parseServeSettings({ entryScript: script, python: 'python\0' }, {}), 'INVALID_SETTINGS', '--python', /NUL/);
  refuses(() => parseServeSettings({ entryScript: script, modelDir: `/${emoji}` }, {}), 'INVALID_SETTINGS', '--model-dir', /at most 255/);
});
