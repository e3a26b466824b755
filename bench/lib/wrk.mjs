// Benchmark load generator: wrk (C, event loop per thread), warm-up then measured run, with the same result shape as loadgen.mjs.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trackChild } from './procs.mjs';

const CLK_TCK = 100;

/** wrk's version line, or null when it is not installed (Debian: apt-get install wrk). */
export function wrkVersion() {
  try {
    const out = execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /wrk\s+(\S+)/.exec(out)?.[1] ?? 'unknown';
  } catch (err) {
    // wrk -v prints its version and exits 1.
    const text = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    const m = /wrk\s+(\S+)/.exec(text);
    return m ? m[1] : null;
  }
}

/**
 * The request (method, body, headers) and, when the run is done, its figures as one JSON line: exact percentiles from
 * wrk's own histogram (microseconds), counts, and the status errors (non-2xx/3xx) wrk keeps apart.
 */
function luaScript(cfg) {
  const q = (s) => JSON.stringify(String(s)); // a JSON string is a valid Lua string literal for these values
  const headers = Object.entries(cfg.headers ?? {}).map(([k, v]) => `wrk.headers[${q(k)}] = ${q(v)}`).join('\n');
  return `wrk.method = ${q(cfg.method ?? 'GET')}
${cfg.body === undefined ? '' : `wrk.body = ${q(cfg.body)}`}
${headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"mean":%f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
`;
}

function cpuSeconds(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** One wrk run; resolves with its parsed result and the CPU it used (sampled until it exits). */
function runOnce(cfg, script, durationS) {
  return new Promise((resolve, reject) => {
    const args = ['-t', String(cfg.threads ?? 1), '-c', String(cfg.connections), '-d', `${durationS}s`,
      '--timeout', `${cfg.requestTimeoutS ?? 10}s`, '-s', script, cfg.url];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    let cpu = 0;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    // wrk is gone by the time 'exit' fires: keep the last CPU reading taken while it ran.
    const sampler = setInterval(() => { cpu = cpuSeconds(child.pid) ?? cpu; }, 100);
    child.once('error', (err) => { clearInterval(sampler); reject(err); });
    child.once('exit', (code) => {
      clearInterval(sampler);
      const line = /WRK_RESULT (\{.*\})/.exec(out);
      if (code !== 0 || line === null) return reject(new Error(`wrk exited ${code}: ${out.trim().slice(-500)}`));
      resolve({ ...JSON.parse(line[1]), cpuS: cpu });
    });
  });
}

/** Same contract as runLoad with autocannon: warm-up (discarded), then the measured run; `cfg.overallRate` is not supported. */
export async function runWrk(cfg) {
  if (cfg.overallRate) throw new Error('wrk runs closed loop only; a fixed rate needs autocannon (--loadgen autocannon)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-wrk-'));
  const script = path.join(dir, 'request.lua');
  fs.writeFileSync(script, luaScript(cfg));
  try {
    if (cfg.warmupS > 0) await runOnce(cfg, script, cfg.warmupS);
    cfg.onMeasureStart?.();
    const r = await runOnce(cfg, script, cfg.durationS);
    const elapsedS = r.durationUs / 1e6;
    const ms = (us) => +(us / 1000).toFixed(3);
    const errors = r.connect + r.read + r.write + r.timeout;
    return {
      elapsedS: +elapsedS.toFixed(3),
      completed: r.requests,
      ok2xx: r.requests - r.status,
      non2xx: r.status,
      errors,
      timeouts: r.timeout,
      reqPerSec: +((r.requests - r.status) / elapsedS).toFixed(1),
      latencyMs: { mean: ms(r.mean), p50: ms(r.p50), p90: ms(r.p90), p99: ms(r.p99), p999: ms(r.p999), max: ms(r.max), samples: r.requests },
      loadgenCpuS: +r.cpuS.toFixed(2),
      loadgen: `wrk ${cfg.threads ?? 1} thread(s)`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
