// Benchmark helper: runs the autocannon load generator (loadgen.mjs) in its own process and resolves its result.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackChild } from './procs.mjs';

const loadgen = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loadgen.mjs');

/** `cfg`: { url, method, body, headers, connections, warmupS, durationS, requestTimeoutS, overallRate?, onMeasureStart? }; the load runs in its own process. */
export function runLoad(cfg, timeoutMs) {
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
    const { onMeasureStart: _omit, ...plain } = cfg; // a function cannot cross the IPC channel
    child.send(plain);
  });
}
