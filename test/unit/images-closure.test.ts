// The runtime layer ships berth's production dependency closure only: found as Node resolves packages, devDependencies left out.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileHasher, productionClosure, runtimeFiles } from '../../src/images/runtime-files.js';

const root = mkdtempSync(join(tmpdir(), 'berth-closure-'));
after(() => rmSync(root, { recursive: true, force: true }));

function pkg(dir: string, manifest: Record<string, unknown>, files: Record<string, string> = { 'index.js': 'module.exports = 1;\n' }): void {
  mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, dir, 'package.json'), JSON.stringify(manifest));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, dir, name, '..'), { recursive: true });
    writeFileSync(join(root, dir, name), text);
  }
}

// berth → a (which needs b@2, nested, and c, hoisted), opt (optional, installed), gone (optional, not installed);
// devDependencies: dev (which needs devonly). c has a peer p that is installed, and a peer q that is not.
pkg('.', { name: 'berth', dependencies: { a: '1' }, optionalDependencies: { opt: '1', gone: '1' }, devDependencies: { dev: '1' } }, {});
pkg('node_modules/a', { name: 'a', dependencies: { b: '2', c: '1' } });
pkg('node_modules/a/node_modules/b', { name: 'b', version: '2.0.0' });
pkg('node_modules/b', { name: 'b', version: '1.0.0' });
pkg('node_modules/c', { name: 'c', peerDependencies: { p: '1', q: '1' }, dependencies: { missing: '1' } });
pkg('node_modules/p', { name: 'p' });
pkg('node_modules/opt', { name: 'opt' }, { 'build/Release/addon.node': 'binary', 'build/Release/obj.target/addon/x.o': 'object file' });
pkg('node_modules/@scope/s', { name: '@scope/s' });
pkg('node_modules/dev', { name: 'dev', dependencies: { devonly: '1', '@scope/s': '1' } });
pkg('node_modules/devonly', { name: 'devonly' });
for (const [path, text] of Object.entries({ 'bin/berth.js': '#!/usr/bin/env node\n', 'dist/cli/main.js': 'x', 'dist/cli/main.js.map': '{}', 'src/inference/runtime/python/berth_runner.py': 'print()', 'src/inference/runtime/python/site/berth/__init__.py': '', 'src/inference/runtime/python/frames.ts': 'ts', 'src/inference/runtime/python/site/berth/__pycache__/x.pyc': 'pyc', 'src/core/paths.ts': 'ts' })) {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

test('the closure follows dependencies, optional and installed peer dependencies as Node resolves them; never devDependencies', () => {
  const c = productionClosure(root);
  assert.deepEqual(c.packages, ['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/c', 'node_modules/opt', 'node_modules/p']);
  assert.deepEqual(c.missing, ['missing (needed by node_modules/c)']);
});

test('runtime files: package.json, bin, dist without maps, the Python runner\'s .py files, and each package without its nested node_modules or build leftovers', () => {
  const paths = runtimeFiles(root).map((f) => f.path);
  assert.deepEqual(paths, [
    'bin/berth.js', 'dist/cli/main.js',
    'node_modules/a/index.js', 'node_modules/a/node_modules/b/index.js', 'node_modules/a/node_modules/b/package.json', 'node_modules/a/package.json',
    'node_modules/c/index.js', 'node_modules/c/package.json', 'node_modules/opt/build/Release/addon.node', 'node_modules/opt/package.json',
    'node_modules/p/index.js', 'node_modules/p/package.json',
    'package.json', 'src/inference/runtime/python/berth_runner.py', 'src/inference/runtime/python/site/berth/__init__.py',
  ]);
});

test('the digest of the runtime files changes with any content, and a second look reuses the hashes', async () => {
  const hasher = new FileHasher();
  const first = await hasher.digest(runtimeFiles(root));
  assert.equal(await hasher.digest(runtimeFiles(root)), first);
  writeFileSync(join(root, 'dist/cli/main.js'), 'y');
  utimesSync(join(root, 'dist/cli/main.js'), new Date(), new Date(Date.now() + 5000));
  assert.notEqual(await hasher.digest(runtimeFiles(root)), first);
});

test('the real berth closure has its runtime dependencies and none of its dev tools', () => {
  const c = productionClosure(new URL('../../', import.meta.url).pathname.replace(/\/$/, ''));
  for (const needed of ['node_modules/commander', 'node_modules/zod', 'node_modules/pino', 'node_modules/tsx', 'node_modules/undici']) assert.ok(c.packages.includes(needed), needed);
  for (const dev of ['node_modules/typescript', 'node_modules/autocannon', 'node_modules/@types/better-sqlite3']) assert.ok(!c.packages.includes(dev), dev);
});
