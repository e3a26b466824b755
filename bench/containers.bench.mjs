// `npm run bench:containers`: the container path end to end, against its own baselines in the same run. Cold image build
// of a service (runtime and app layers, pushed), warm rebuild after a source-only change, deploy → Healthy with the image
// cached, and scoring throughput through the gateway of one container replica against one process replica (same
// score.py, same load). Targets: warm rebuild ≤ 2 s, deploy → Healthy ≤ 3 s, container replica ≥ 0.9× the process one.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlane } from './lib/plane.mjs';
import { runLoad } from './lib/run-load.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const registry = `${process.env.BERTH_BENCH_REGISTRY ?? '127.0.0.1:5000'}/berth-bench-${randomBytes(3).toString('hex')}`;
const rounds = Number(process.env.BERTH_BENCH_ROUNDS ?? 3);
const durationS = Number(process.env.BERTH_BENCH_SECONDS ?? 10);
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const secs = (ms) => (ms / 1000).toFixed(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-containers-'));
const logDir = path.join(work, 'logs');
fs.mkdirSync(logDir);

/** A source folder of its own (a marker file makes its inputs unique, so the first build is cold for this run). */
function source(name) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'test/fixtures/sum_score.py'), path.join(dir, 'sum_score.py'));
  fs.writeFileSync(path.join(dir, 'marker.txt'), `${name} ${registry}\n`);
  return dir;
}

async function timed(fn) {
  const started = performance.now();
  const out = await fn();
  return { ms: performance.now() - started, out };
}

const plane = await startPlane(repoRoot, logDir, ['--capacity', 'cpu=8,memory_gb=16', '--registry', registry]);
const results = {};
try {
  // 1. Cold: the first image of a service with new inputs (its runtime layer may come from the engine's cache of an earlier run).
  const src = source('svc');
  const cold = await timed(() => plane.cli(['image', 'build', '--source-dir', src, '--service', 'bench', '-o', 'json']));
  const coldImage = JSON.parse(cold.out);
  log(`cold build: ${secs(cold.ms)} s (layers built: ${coldImage.layersBuilt.join(', ')})`);
  results.cold_build_s = +secs(cold.ms);

  // 2. Warm rebuild after a source-only change: only the app layer, pushed.
  const warm = [];
  for (let i = 0; i < rounds; i++) {
    fs.writeFileSync(path.join(src, 'notes.txt'), `change ${i}\n`);
    const r = await timed(() => plane.cli(['image', 'build', '--source-dir', src, '--service', 'bench', '-o', 'json']));
    const built = JSON.parse(r.out);
    log(`warm rebuild ${i + 1}: ${secs(r.ms)} s (layers built: ${built.layersBuilt.join(', ')})`);
    warm.push(r.ms);
  }
  results.warm_rebuild_s = +secs(median(warm));

  // 3. Deploy → Healthy with the image cached (the same inputs as the last build), through the CLI as a user runs it.
  const deploys = [];
  for (let i = 0; i < rounds; i++) {
    const r = await timed(() => plane.cli(['deploy', '--name', `cached-${i}`, '--entry-script', 'sum_score.py', '--source-dir', src, '--runtime', 'docker', '--replicas', '1', '--no-auth']));
    log(`deploy → Healthy with a cached image ${i + 1}: ${secs(r.ms)} s`);
    deploys.push(r.ms);
    await plane.cli(['service', 'delete', `cached-${i}`]);
  }
  results.deploy_cached_s = +secs(median(deploys));

  // 4. Throughput through the gateway: one container replica against one process replica, same script and load; the
  //    containers on a bridge network (port published on loopback) and, on a second plane, on the host network.
  const hostPlane = await startPlane(repoRoot, logDir, ['--capacity', 'cpu=8,memory_gb=16', '--registry', registry, '--container-network', 'host']);
  try {
    const deploy = (p, name, extra) => p.cli(['deploy', '--name', name, '--entry-script', 'sum_score.py', '--source-dir', src, '--replicas', '1', '--no-auth', '--max-concurrent-requests', '4', ...extra]);
    await deploy(plane, 'in-process', []);
    await deploy(plane, 'in-container', ['--runtime', 'docker']);
    await deploy(hostPlane, 'in-container', ['--runtime', 'docker']);
    const body = JSON.stringify({ data: [[1, 2, 3]] });
    const load = (url) => runLoad({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: 16, warmupS: 2, durationS, requestTimeoutS: 10 }, (durationS + 2) * 1000 + 60_000);
    const targets = {
      process: `${plane.url}/api/v1/service/in-process/score`,
      bridge: `${plane.url}/api/v1/service/in-container/score`,
      host: `${hostPlane.url}/api/v1/service/in-container/score`,
    };
    const rps = { process: [], bridge: [], host: [] };
    for (let i = 0; i < rounds; i++) {
      // Rotate which goes first, so none always gets the quietest moment.
      const order = Object.keys(targets);
      for (let k = 0; k < i % order.length; k++) order.push(order.shift());
      for (const name of order) rps[name].push((await load(targets[name])).reqPerSec);
      log(`round ${i + 1}: process ${rps.process[i].toFixed(0)} req/s, container (bridge) ${rps.bridge[i].toFixed(0)} (${(rps.bridge[i] / rps.process[i]).toFixed(2)}×), container (host network) ${rps.host[i].toFixed(0)} (${(rps.host[i] / rps.process[i]).toFixed(2)}×)`);
    }
    results.process_rps = Math.round(median(rps.process));
    results.container_bridge_rps = Math.round(median(rps.bridge));
    results.container_host_rps = Math.round(median(rps.host));
    results.container_bridge_ratio = +median(rps.bridge.map((c, i) => c / rps.process[i])).toFixed(2);
    results.container_host_ratio = +median(rps.host.map((c, i) => c / rps.process[i])).toFixed(2);
  } finally {
    await hostPlane.stop();
  }
} finally {
  await plane.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
console.log(JSON.stringify(results, null, 2));
console.log(`warm rebuild after a source-only change: ${results.warm_rebuild_s} s (target ≤ 2 s: ${verdict(results.warm_rebuild_s <= 2)})`);
console.log(`deploy → Healthy with a cached image:   ${results.deploy_cached_s} s (target ≤ 3 s: ${verdict(results.deploy_cached_s <= 3)})`);
console.log(`container replica / process replica:    bridge network ${results.container_bridge_ratio}× (${results.container_bridge_rps} vs ${results.process_rps} req/s; target ≥ 0.9: ${verdict(results.container_bridge_ratio >= 0.9)})`);
console.log(`                                         host network ${results.container_host_ratio}× (${results.container_host_rps} req/s; target ≥ 0.9: ${verdict(results.container_host_ratio >= 0.9)})`);
console.log(`cold build of a new service's image:     ${results.cold_build_s} s`);
