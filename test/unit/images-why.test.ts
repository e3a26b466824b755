// "Why was this image built?": the input that differs from the service's previous image, in words, down to the file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainRebuild, type ChainInputs } from '../../src/images/why.js';
import { diffManifests, snapshotSource, sourceManifest } from '../../src/images/source.js';
import { FileHasher } from '../../src/images/runtime-files.js';

const chain: ChainInputs = {
  runtime: { base: 'sha256:aaaaaaaaaaaaaaaa', baseName: 'berth/base:bookworm', berthVersion: '0.1.0', runtimeFiles: 'r1'.repeat(32), node: { version: 'v20.20.2', arch: 'x64', sha256: 'n'.repeat(64) } },
  env: { from: 'berth/runtime:r', environment: { ref: 'sk:1', digest: 'd1'.repeat(32), kind: 'python' }, lock: 'l1', python: '3.11.2' },
  packages: { numpy: '1.26.0', scipy: '1.11.0' },
  app: { from: 'berth/env:e', source: 's1'.repeat(32), variables: { A: '1' }, environment: 'sk:1' },
  manifest: { 'score.py': 'h1', 'util.py': 'h2' },
};

test('no earlier image: the first of the service, or of these inputs', () => {
  assert.equal(explainRebuild(undefined, chain, 'sum'), 'first image of service sum');
  assert.equal(explainRebuild(undefined, chain, undefined), 'no earlier image of these inputs');
});

test('a source change names the files changed, added and removed', () => {
  const next: ChainInputs = { ...chain, app: { ...chain.app, source: 's2'.repeat(32) }, manifest: { 'score.py': 'h9', 'new.py': 'h3' } };
  assert.equal(explainRebuild(chain, next, 'sum'), 'source changed: score.py, new.py (added), util.py (removed)');
  const many: ChainInputs = { ...next, manifest: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`f${i}.py`, 'x'])) };
  assert.match(explainRebuild(chain, many, 'sum'), /^source changed: f0\.py \(added\), .* and 6 more$/);
  const noManifest: ChainInputs = { ...next, manifest: undefined } as unknown as ChainInputs;
  assert.match(explainRebuild(chain, noManifest, 'sum'), /^source changed \(s1s1s1s1s1s1 → s2s2s2s2s2s2\)$/);
});

test('each other input is named: base, berth, node, environment, locked packages, variables', () => {
  const r = chain.runtime;
  assert.equal(explainRebuild(chain, { ...chain, runtime: { ...r, base: 'sha256:bbbbbbbbbbbbbbbb' } }, 's'), 'base image changed: berth/base:bookworm aaaaaaaaaaaa → berth/base:bookworm bbbbbbbbbbbb');
  assert.equal(explainRebuild(chain, { ...chain, runtime: { ...r, berthVersion: '0.2.0', runtimeFiles: 'x' } }, 's'), 'berth changed: 0.1.0 → 0.2.0');
  assert.match(explainRebuild(chain, { ...chain, runtime: { ...r, runtimeFiles: 'r2'.repeat(32) } }, 's'), /^berth's runtime files changed/);
  assert.equal(explainRebuild(chain, { ...chain, runtime: { ...r, node: { ...r.node, version: 'v20.21.0', sha256: 'm' } } }, 's'), 'node changed: v20.20.2 → v20.21.0');
  const env = chain.env!;
  assert.equal(explainRebuild(chain, { ...chain, env: { ...env, environment: { ref: 'sk:2', digest: 'd2', kind: 'python' } } }, 's'), 'environment changed: sk:1 → sk:2 (its packages or options differ)');
  assert.equal(explainRebuild(chain, { ...chain, env: { ...env, lock: 'l2' }, packages: { numpy: '1.26.4', pandas: '2.1.0' } }, 's'), 'locked packages changed: numpy 1.26.0 → 1.26.4, +pandas 2.1.0, -scipy 1.11.0');
  const { env: _e, packages: _p, ...noEnv } = chain;
  assert.equal(explainRebuild(noEnv, chain, 's'), 'environment added: sk:1');
  assert.equal(explainRebuild(chain, noEnv, 's'), 'environment removed: sk:1');
  assert.equal(explainRebuild(chain, { ...chain, app: { ...chain.app, variables: { A: '2', B: 'x' } } }, 's'), 'variables changed: A, B');
  assert.equal(explainRebuild(chain, chain, 's'), 'the image of these same inputs was neither here nor in the registry (removed since it was made?)');
  assert.equal(
    explainRebuild(chain, { ...chain, app: { ...chain.app, variables: {}, source: 'z' }, manifest: { 'score.py': 'h1' } }, 's'),
    'variables changed: A; source changed: util.py (removed)',
  );
});

test('the source digest covers names, contents, the executable bit and links; the manifest diff finds what changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-source-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'pkg'));
  writeFileSync(join(dir, 'score.py'), 'def run(x): return x\n');
  writeFileSync(join(dir, 'pkg/util.py'), 'X = 1\n');
  symlinkSync('score.py', join(dir, 'link.py'));
  const hasher = new FileHasher();
  const a = await snapshotSource(dir, hasher);
  assert.deepEqual(a.entries.map((e) => `${e.kind}:${e.path}`), ['symlink:link.py', 'dir:pkg', 'file:pkg/util.py', 'file:score.py']);
  assert.equal((await snapshotSource(dir, hasher)).digest, a.digest);
  writeFileSync(join(dir, 'pkg/util.py'), 'X = 2\n');
  const b = await snapshotSource(dir, hasher);
  assert.notEqual(b.digest, a.digest);
  assert.deepEqual(diffManifests(sourceManifest(a)!, sourceManifest(b)!), { added: [], removed: [], changed: ['pkg/util.py'] });
  const { chmodSync } = await import('node:fs');
  chmodSync(join(dir, 'score.py'), 0o755);
  const c = await snapshotSource(dir, hasher);
  assert.notEqual(c.digest, b.digest);
  assert.deepEqual(diffManifests(sourceManifest(b)!, sourceManifest(c)!).changed, ['score.py']);
});
