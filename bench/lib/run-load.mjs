// Benchmark helper: runs the load generator (autocannon via loadgen.mjs, or wrk) in its own process and resolves its result.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackChild } from './procs.mjs';
import { runWrk } from './wrk.mjs';

const loadgen = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loadgen.mjs');

/**
 * `cfg`: { url, method, body, headers, connections, warmupS, durationS, requestTimeoutS, overallRate?, onMeasureStart?,
 * loadgen? ('autocannon' by default, or 'wrk'), threads? (wrk) }; the load runs in its own process.
 */
export function runLoad(cfg, timeoutMs) {
  if (cfg.loadgen === 'wrk') {
    let timer;
    const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`wrk did not finish within ${timeoutMs} ms`)), timeoutMs); });
    return Promise.race([runWrk(cfg), timeout]).finally(() => clearTimeout(timer));
  }
  return new Promise((resolve, reject) => {
    const child = fork(loadgen, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    trackChild(child);
    let settled = false;
    const finish = (fn, v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(v);
    };
    const timer = setTimeout(() => {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
      finish(reject, new Error(`load generator did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (msg) => {
      if (msg?.phase === 'measure-start') return cfg.onMeasureStart?.();
      if (msg?.ok) finish(resolve, msg.result);
      else if (msg && !msg.ok) finish(reject, new Error(`load generator failed: ${msg.error}`));
    });
    child.once('exit', (code, signal) => finish(reject, new Error(`load generator exited (${code ?? signal}) without a result`)));
    const { onMeasureStart: _omit, loadgen: _autocannon, threads: _threads, ...plain } = cfg; // a function cannot cross the IPC channel
    child.send(plain);
  });
}
