// `npm run bench:images`: cold build time of each image layer (no engine build cache), and the warm paths: unchanged
// inputs, and a rebuild after a source-only change; with and without pushing to the registry (127.0.0.1:5000).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Images, DockerConnection, BASE_IMAGE } = await import(path.join(repoRoot, 'dist/images/index.js'));
const { openStore } = await import(path.join(repoRoot, 'dist/control/store/db.js'));
const registry = process.env.BERTH_BENCH_REGISTRY ?? '127.0.0.1:5000';
const rounds = Number(process.env.BERTH_BENCH_ROUNDS ?? 3);
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-images-'));
const env = { ...process.env };
const docker = new DockerConnection(env);
const made = [];

function part(home, withRegistry, noBuildCache) {
  const db = openStore(path.join(home, 'berth.db'));
  const namespace = `berth-bench-${randomBytes(3).toString('hex')}`;
  const images = new Images({ docker, db, home, env, logger: pino({ level: 'warn' }), noBuildCache, ...(withRegistry ? { registry: `${registry}/${namespace}` } : {}) });
  return { images, db, namespace };
}

function wheelEnv() {
  const wheels = path.join(work, 'wheels');
  fs.mkdirSync(wheels, { recursive: true });
  execFileSync('/usr/bin/python3', ['-c', `
import base64, hashlib, zipfile
files = {"benchpkg/__init__.py": "VALUE = 1\\n", "benchpkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: benchpkg\\nVersion: 1.0\\n", "benchpkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
rec = [f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b'=').decode()},{len(t)}" for p, t in files.items()] + ["benchpkg-1.0.dist-info/RECORD,,"]
files["benchpkg-1.0.dist-info/RECORD"] = "\\n".join(rec) + "\\n"
with zipfile.ZipFile("${wheels}/benchpkg-1.0-py3-none-any.whl", "w") as z:
    [z.writestr(p, t) for p, t in files.items()]
`]);
  const spec = { build: { kind: 'python', interpreter: { executable: '/usr/bin/python3', implementation: 'CPython', version: execFileSync('/usr/bin/python3', ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim() }, system_site_packages: false, requirements: ['benchpkg==1.0'], pip: { extra_index_urls: [], find_links: [wheels], no_index: true, trusted_hosts: [] } }, variables: { MODEL_KIND: 'bench' }, source: 'requirements.txt' };
  return { ref: `bench:${randomBytes(3).toString('hex')}`, digest: randomBytes(32).toString('hex'), spec };
}

async function timed(label, fn) {
  const started = performance.now();
  const result = await fn();
  const ms = performance.now() - started;
  log(`${label}: ${(ms / 1000).toFixed(2)} s (${result.outcome}, built: ${result.layersBuilt.join(', ') || 'nothing'})`);
  return { ms, result };
}

async function scenario(withRegistry) {
  const home = fs.mkdtempSync(path.join(work, 'home-'));
  const source = path.join(home, 'src');
  fs.mkdirSync(source);
  fs.copyFileSync(path.join(repoRoot, 'test/fixtures/sum_score.py'), path.join(source, 'sum_score.py'));
  const { images, db, namespace } = part(home, withRegistry, true);
  const environment = wheelEnv();
  const signal = new AbortController().signal;
  const marks = [];
  const onStep = (text) => marks.push([text.replace(/^(\S+ \S+ \S+ layer|pushing) \S+?\/(runtime|env|app):[0-9a-f]{32}.*$/, '$1 $2').replace(/^(resolving) .*$/, '$1 on the host'), performance.now()]);
  const started = performance.now();
  const cold = await timed(`cold, ${withRegistry ? 'with' : 'without'} registry (runtime + env + app, no build cache)`, () => images.ensure({ service: 'bench', environment, sourceDir: source }, signal, onStep));
  // A step lasts until the next one begins (the last until ensure() returned); what precedes the first is hashing and checks.
  const stepTimes = { 'inputs: hashing berth\'s runtime files, the source, base checks': (marks[0]?.[1] ?? started + cold.ms) - started };
  marks.forEach(([name, at], i) => { stepTimes[name] = (marks[i + 1]?.[1] ?? started + cold.ms) - at; });
  const warm = [];
  const unchanged = [];
  for (let r = 0; r < rounds; r++) {
    unchanged.push((await timed('unchanged inputs', () => images.ensure({ service: 'bench', environment, sourceDir: source }, signal))).ms);
    fs.appendFileSync(path.join(source, 'sum_score.py'), `\n# round ${r}\n`);
    warm.push((await timed('source-only change', () => images.ensure({ service: 'bench', environment, sourceDir: source }, signal))).ms);
  }
  made.push({ images, db, namespace, withRegistry });
  return { cold: cold.ms, steps: stepTimes, unchanged, warm, tag: cold.result.tag };
}

/** Deletes the manifests of the namespace's repositories (the test registry runs with delete enabled). */
async function deleteTags(namespace) {
  const accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';
  for (const kind of ['runtime', 'env', 'app']) {
    const repo = `http://${registry}/v2/${namespace}/${kind}`;
    const { tags } = await (await fetch(`${repo}/tags/list`)).json();
    for (const tag of tags ?? []) {
      const digest = (await fetch(`${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept } })).headers.get('docker-content-digest');
      if (digest !== null) await fetch(`${repo}/manifests/${digest}`, { method: 'DELETE' });
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

try {
  await docker.get();
  const base = await docker.get().then((d) => d.getImage(BASE_IMAGE).inspect()).catch(() => undefined);
  if (base === undefined) log(`${BASE_IMAGE} is missing: it is made first (debootstrap, about a minute), and that time is in the cold figures`);
  const local = await scenario(false);
  const pushed = await scenario(true);
  const lines = ['| path | no registry | registry (push) |', '|---|---|---|'];
  const names = [...new Set([...Object.keys(local.steps), ...Object.keys(pushed.steps)])];
  for (const n of names) lines.push(`| ${n} | ${local.steps[n] === undefined ? '-' : s(local.steps[n])} | ${pushed.steps[n] === undefined ? '-' : s(pushed.steps[n])} |`);
  lines.push(`| cold ensure() total | ${s(local.cold)} | ${s(pushed.cold)} |`);
  lines.push(`| unchanged inputs (median of ${rounds}) | ${s(median(local.unchanged))} | ${s(median(pushed.unchanged))} |`);
  lines.push(`| source-only change: app layer rebuilt (median of ${rounds}; target ≤ 2 s) | ${s(median(local.warm))} | ${s(median(pushed.warm))} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const m of made) {
    await m.images.prune().catch((err) => log(`prune: ${err.message}`));
    m.db.close();
    if (m.withRegistry) await deleteTags(m.namespace).catch((err) => log(`registry clean-up: ${err.message}`));
  }
  fs.rmSync(work, { recursive: true, force: true });
  log('cleaned up: local images pruned, the registry\'s bench tags deleted');
}
