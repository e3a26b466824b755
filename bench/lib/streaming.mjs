// `npm run bench:serve -- --streaming`: time to first chunk of a streaming run() on berth serve directly and through the gateway, against a plain run() in the same run.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, HOST, pollUntil } from './http.mjs';
import { startProcess, tailFile } from './procs.mjs';
import { startPlane } from './plane.mjs';

const log = (msg) => process.stderr.write(`[bench:stream] ${msg}\n`);

/**
 * One request at a time on a kept-alive connection: from writing the request to the first body bytes (the first
 * chunk; a plain run()'s whole small body), and to the end. Closed-loop, so queueing does not blur the hop's cost.
 */
async function measure(url, body, headers, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const first = [];
  const whole = [];
  const target = new URL(url);
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      let seen = false;
      const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
        res.on('data', () => {
          if (seen) return;
          seen = true;
          first.push(Number(process.hrtime.bigint() - t0) / 1e6);
        });
        res.on('end', () => {
          whole.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
          else resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  agent.destroy();
  return { first: stats(first), whole: stats(whole) };
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3);
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: +s[s.length - 1].toFixed(3) };
}

/** Each case: a warm-up, then the measured requests. */
async function cases(label, url, count, warmup) {
  const out = {};
  const plain = '{"x": 1}';
  const stream = '{"stream": 5}';
  for (const [name, body, headers] of [['plain', plain, {}], ['chunked', stream, {}], ['sse', stream, { accept: 'text/event-stream' }]]) {
    await measure(url, body, headers, warmup);
    out[name] = await measure(url, body, headers, count);
    log(`${label} ${name}: first byte p50 ${out[name].first.p50} ms, p99 ${out[name].first.p99} ms; whole p50 ${out[name].whole.p50} ms`);
  }
  return out;
}

export async function streamingBench(repoRoot, { count = 3000, warmup = 300, python = 'python3' } = {}) {
  const logDir = path.join(repoRoot, 'bench', 'results', 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const script = path.join(repoRoot, 'bench', 'fixtures', 'stream_score.py');
  const port = await freePort();
  const logFile = path.join(logDir, 'stream-direct.log');
  const proc = startProcess(process.execPath, [path.join(repoRoot, 'bin/berth.js'), 'serve', '--entry-script', script, '--port', String(port), '--host', HOST, '--python', python], { cwd: repoRoot, env: process.env, logFile });
  let plane;
  try {
    await pollUntil(async () => (await fetch(`http://${HOST}:${port}/ready`)).ok, { timeoutMs: 30_000, what: 'berth serve', abort: () => (proc.exitInfo ? tailFile(logFile) : null) });
    const direct = await cases('direct', `http://${HOST}:${port}/score`, count, warmup);
    await proc.stop();

    plane = await startPlane(repoRoot, logDir, ['--capacity', 'cpu=4,memory_gb=8']);
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-stream-bench-'));
    fs.copyFileSync(script, path.join(src, 'stream_score.py'));
    await plane.cli(['deploy', '--name', 'streamer', '--source-dir', src, '--entry-script', 'stream_score.py', '--no-auth', '--replicas', '1']);
    const gateway = await cases('gateway', `${plane.url}/api/v1/service/streamer/score`, count, warmup);

    const diff = (a, b) => +(a - b).toFixed(3);
    const ratio = (a, b) => +(a / b).toFixed(2);
    const report = {
      meta: { date: new Date().toISOString(), cpus: os.availableParallelism(), node: process.version, count, warmup, chunks: 5, mode: 'closed loop, one request at a time, keep-alive' },
      direct, gateway,
      derived: {
        direct_chunked_first_minus_plain_first_p50_ms: diff(direct.chunked.first.p50, direct.plain.first.p50),
        direct_chunked_first_minus_plain_first_p99_ms: diff(direct.chunked.first.p99, direct.plain.first.p99),
        direct_chunked_first_over_plain_p50: ratio(direct.chunked.first.p50, direct.plain.first.p50),
        gateway_minus_direct_chunked_first_p50_ms: diff(gateway.chunked.first.p50, direct.chunked.first.p50),
        gateway_minus_direct_chunked_first_p99_ms: diff(gateway.chunked.first.p99, direct.chunked.first.p99),
        gateway_minus_direct_sse_first_p99_ms: diff(gateway.sse.first.p99, direct.sse.first.p99),
        gateway_over_direct_chunked_first_p50: ratio(gateway.chunked.first.p50, direct.chunked.first.p50),
      },
    };
    // The target: through the gateway, time to first chunk p99 at most 2 ms over the direct server.
    report.check = { target: 'gateway TTFC p99 - direct TTFC p99 <= 2 ms (chunked and SSE)', pass: report.derived.gateway_minus_direct_chunked_first_p99_ms <= 2 && report.derived.gateway_minus_direct_sse_first_p99_ms <= 2 };
    const out = path.join(repoRoot, 'bench', 'results', 'stream-latest.json');
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify({ derived: report.derived, check: report.check }, null, 2)}\nJSON: ${path.relative(process.cwd(), out)}\n`);
    return report.check.pass ? 0 : 1;
  } finally {
    await proc.stop();
    if (plane) await plane.stop();
  }
}
