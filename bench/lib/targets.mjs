// Benchmark scenarios and targets: how to start each server under test and what it must answer.
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { request } from './http.mjs';

/** Scenario definitions. `berth` is the target under test, `baseline` the one it is compared with. */
export function scenarios(opts, repoRoot) {
  const fx = (f) => path.join(repoRoot, 'bench/fixtures', f);
  const berthBin = path.join(repoRoot, 'bin/berth.js');
  const berthReady = async (port) => {
    const r = await request(port, { path: '/ready', timeoutMs: 1000 });
    return r.status === 200;
  };
  const healthReady = async (port) => {
    const r = await request(port, { path: '/', timeoutMs: 1000 });
    return r.status === 200 && r.body.trim() === 'Healthy';
  };
  const all = {
    python: {
      id: 'python',
      title: 'Scenario A (Python): sum-of-rows score.py',
      request: { method: 'POST', path: '/score', body: '{"data": [[1,2,3],[4,5,6]]}' },
      expected: { result: [6, 15] },
      checks: [
        { id: 'python-throughput', label: 'Python: berth / Flask+gunicorn throughput', metric: 'throughput', op: '>=', target: 2.5 },
        { id: 'python-p99', label: 'Python: berth / Flask+gunicorn p99', metric: 'p99', op: '<=', target: 0.5 },
      ],
      berth: {
        id: 'berth-python',
        isBerth: true,
        label: `berth serve (--worker-count ${opts.berthWorkers})`,
        start: (port) => ({
          cmd: process.execPath,
          args: [berthBin, 'serve', '--entry-script', fx('sum_score.py'), '--port', String(port),
            '--worker-count', String(opts.berthWorkers), '--python', opts.python],
        }),
        ready: berthReady,
        readyTimeoutMs: 60_000,
      },
      baseline: {
        id: 'flask-gunicorn',
        label: 'Flask + gunicorn (2 sync workers)',
        start: (port) => ({
          cmd: opts.python,
          args: ['-m', 'gunicorn', '--workers', '2', '--worker-class', 'sync', '--bind', `127.0.0.1:${port}`,
            '--chdir', fx(''), '--log-level', 'warning', 'flask_app:app'],
          env: { BENCH_SCORE_PY: fx('sum_score.py') },
        }),
        ready: healthReady,
        // The gunicorn master binds before its workers boot: also wait for master + 2 workers.
        minProcesses: 3,
        readyTimeoutMs: 30_000,
        note: 'gunicorn sync workers close the connection after every response (no keep-alive), by design',
      },
    },
    js: {
      id: 'js',
      title: 'Scenario B (JS): no-op entry script',
      request: { method: 'POST', path: '/score', body: '{"data": [[1,2,3],[4,5,6]]}' },
      expected: { ok: true },
      checks: [
        { id: 'js-throughput', label: 'JS: berth / raw node:http throughput', metric: 'throughput', op: '>=', target: 0.8 },
        { id: 'js-vs-duties', label: 'JS: berth / node:http doing only berth\'s per-request duties (reference)', metric: 'throughput', against: 'reference' },
      ],
      berth: {
        id: 'berth-js',
        isBerth: true,
        // One worker runs the script in the server's own thread, as the raw server answers in its one thread
        // (two or more would be worker threads, each request crossing between threads).
        label: 'berth serve (JS entry script)',
        start: (port) => ({
          cmd: process.execPath,
          args: [berthBin, 'serve', '--entry-script', fx('noop_score.mjs'), '--port', String(port), '--worker-count', '1'],
        }),
        ready: berthReady,
        readyTimeoutMs: 60_000,
      },
      baseline: {
        id: 'raw-node-http',
        label: 'raw node:http server',
        start: (port) => ({ cmd: process.execPath, args: [fx('raw_node_server.mjs'), String(port)] }),
        ready: healthReady,
        readyTimeoutMs: 15_000,
      },
      // What the duties DESIGN.md asks of every request (request id, x-ms-* headers, access log line, metrics) cost
      // on a bare server: the bound for any server that does them.
      reference: {
        id: 'raw-node-http-duties',
        label: 'node:http + request id, x-ms-* headers, access log, metrics',
        start: (port) => ({ cmd: process.execPath, args: [fx('raw_duties_server.mjs'), String(port)] }),
        ready: healthReady,
        readyTimeoutMs: 15_000,
      },
    },
    // Not in the default set (--only js-cpu): what worker threads buy a CPU-bound JS script on this machine's cores.
    'js-cpu': {
      id: 'js-cpu',
      title: 'Scenario C (JS, CPU-bound): two worker threads against one worker in the server\'s thread',
      request: { method: 'POST', path: '/score', body: '{"data": [[1,2,3],[4,5,6]]}' },
      expected: { x: 500_319 },
      checks: [
        { id: 'js-cpu-threads', label: 'JS CPU-bound: --worker-count 2 (threads) / --worker-count 1 throughput', metric: 'throughput' },
      ],
      berth: {
        id: 'berth-js-threads',
        isBerth: true,
        label: 'berth serve --worker-count 2 (worker threads)',
        start: (port) => ({ cmd: process.execPath, args: [berthBin, 'serve', '--entry-script', fx('cpu_score.mjs'), '--port', String(port), '--worker-count', '2'] }),
        ready: berthReady,
        readyTimeoutMs: 60_000,
      },
      baseline: {
        id: 'berth-js-one',
        label: 'berth serve --worker-count 1 (the server\'s own thread)',
        start: (port) => ({ cmd: process.execPath, args: [berthBin, 'serve', '--entry-script', fx('cpu_score.mjs'), '--port', String(port), '--worker-count', '1'] }),
        ready: berthReady,
        readyTimeoutMs: 60_000,
      },
    },
  };
  return opts.only.map((s) => all[s]);
}

/** POST the scenario's request and compare the JSON answer with the expected value. Throws on mismatch. */
export async function verifyAnswer(port, scenario) {
  const r = await request(port, { ...scenario.request, timeoutMs: 5000 });
  let parsed;
  try {
    parsed = JSON.parse(r.body);
  } catch {
    parsed = undefined;
  }
  if (r.status !== 200 || !isDeepStrictEqual(parsed, scenario.expected)) {
    throw new Error(`unexpected answer to ${scenario.request.method} ${scenario.request.path}: ` +
      `status ${r.status}, body ${JSON.stringify(r.body.slice(0, 300))}; expected 200 ${JSON.stringify(scenario.expected)}`);
  }
  return { status: r.status, body: r.body, contentType: r.headers['content-type'] ?? null };
}
