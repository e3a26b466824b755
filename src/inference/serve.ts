// Composition root of `berth serve`: wires settings, runtime workers, pool, metrics and HTTP server; handles start-up failure and SIGTERM.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { BerthError } from '../errors/catalogue.js';
import { flushLogger, flushLogsSync } from '../core/logger.js';
import type { ServeSettings } from './settings.js';
import { WorkerPool } from './pool/worker-pool.js';
import { PythonWorker } from './runtime/python/python-worker.js';
import { StartupError, type EntryInfo, type StartupFailure, type Worker } from './runtime/types.js';
import { StartupPhase } from './startup-phase.js';
import { warmUp } from './warm-up.js';
import type { InferenceMetrics } from './metrics.js';
import { formatStartupReport, startupErrorCode } from './startup-report.js';
import { parseSignature } from './oip/model.js';

export interface ServeDeps {
  readonly settings: ServeSettings;
  readonly log: Logger;
  /** Environment handed to Python workers (the CLI's frozen snapshot). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly printError: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  readonly pool: WorkerPool;
  /** Stops accepting, lets in-flight requests finish (bounded), stops workers. */
  shutdown(): Promise<void>;
}

/** The runtime's worker class: a JS runtime is loaded only for a JS entry script, so a Python replica starts its worker sooner. */
async function workerFactory(settings: ServeSettings, deps: ServeDeps): Promise<(id: number) => Worker> {
  const streamTimeouts = { firstChunkMs: settings.firstChunkTimeoutMs, chunkMs: settings.chunkTimeoutMs };
  if (settings.runtime === 'js' && settings.workerCount === 1) {
    const { JsWorker } = await import('./runtime/js/js-worker.js');
    return () => new JsWorker({ entryScript: settings.entryScript, capacity: settings.maxConcurrentRequests, initTimeoutMs: settings.initTimeoutS * 1000, logger: deps.log, streamTimeouts });
  }
  if (settings.runtime === 'js') {
    const { JsThreadWorker } = await import('./runtime/js/js-thread-worker.js');
    return (id) => new JsThreadWorker({ id, entryScript: settings.entryScript, initTimeoutMs: settings.initTimeoutS * 1000, logger: deps.log, streamTimeouts });
  }
  return (id) => new PythonWorker({
    id,
    python: settings.python,
    entryScript: settings.entryScript,
    modelDir: settings.modelDir,
    initTimeoutMs: settings.initTimeoutS * 1000,
    env: deps.env,
    logger: deps.log,
    streamTimeouts,
  });
}

/** Starts the workers and the HTTP server; throws a coded BerthError (after printing the report) when the script cannot start. */
export async function startServer(deps: ServeDeps): Promise<RunningServer> {
  const { settings, log } = deps;
  let metrics: InferenceMetrics | undefined;
  // One JS worker runs in this thread, with the concurrency limit as its capacity; more are worker threads, like Python workers.
  const workerCount = settings.workerCount;
  const startup = new StartupPhase();
  const createWorker = await workerFactory(settings, deps);
  // Every worker runs the same script: the Open Inference Protocol routes ask any ready one what it defines.
  const workers = new Map<number, Worker>();
  const entryInfo = (): EntryInfo | undefined => {
    for (const w of workers.values()) if (w.phase === 'ready' && w.entryInfo !== undefined) return w.entryInfo;
    return undefined;
  };
  const pool = new WorkerPool({
    workerCount,
    maxConcurrent: settings.maxConcurrentRequests,
    maxQueueWaitMs: settings.maxQueueWaitMs,
    scoringTimeoutMs: settings.scoringTimeoutMs,
    createWorker: (id) => {
      const worker = createWorker(id);
      workers.set(id, worker);
      worker.onOutput?.((line) => startup.output(line));
      return worker;
    },
    logger: log,
    onQueueWait: (ms) => metrics?.observeQueueWait(ms / 1000),
    onRestart: (_id, reason) => metrics?.countRestart(reason),
  });
  log.info({ entry_script: settings.entryScript, model_dir: settings.modelDir, workers: workerCount, runtime: settings.runtime }, 'starting workers');
  const starting = pool.start();
  starting.catch(() => undefined); // awaited below, once the probes answer
  // The metrics and the HTTP server load while the workers start (a replica is ready that much sooner).
  const [{ createInferenceMetrics }, { createInferenceServer }] = await Promise.all([import('./metrics.js'), import('./http/server.js')]);
  const liveMetrics = createInferenceMetrics(() => ({ busy: pool.busy, workers: workerCount, queued: pool.queued }));
  metrics = liveMetrics;
  // Phase changes are noted as they happen (to the 50 ms), not only when someone asks /ready.
  const livePhases = pool;
  const phaseTicker = setInterval(() => startup.report(livePhases.phases), 50);
  phaseTicker.unref();
  starting.finally(() => clearInterval(phaseTicker)).catch(() => undefined);

  // The probes answer from the start, so a supervisor sees the phase (importing, init, warming) and the last output line.
  let draining = false;
  let serving = false;
  const server = createInferenceServer({ settings, pool, metrics: liveMetrics, log, isDraining: () => draining, startup, isServing: () => serving, entryInfo });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new BerthError('PORT_IN_USE', { host: settings.host, port: settings.port }) : err);
    });
    server.listen(settings.port, settings.host, resolve);
  }).catch(async (err: unknown) => {
    await starting.catch(() => undefined);
    await pool.stop(0);
    throw err;
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
  log.info({ url, port }, `probes on ${url} while the entry script starts`);
  flushLogger(log); // supervisors read the port from this line

  const fail = async (failure: StartupFailure, workerId: number): Promise<never> => {
    server.close();
    server.closeAllConnections();
    await pool.stop(0);
    log.error({ worker: workerId, ...failure }, `entry script failed to start: ${failure.exception}: ${failure.message}`);
    flushLogsSync();
    for (const line of formatStartupReport(failure, workerId, settings.entryScript, settings.modelDir)) deps.printError(line);
    throw new BerthError(startupErrorCode(failure), {
      file: failure.file ?? settings.entryScript,
      line: failure.line ?? '?',
      exception: `${failure.exception}: ${failure.message}`,
      missing: (failure.missing ?? []).join('() and '),
      timeoutS: settings.initTimeoutS,
      python: settings.python,
      detail: failure.message,
    });
  };
  try {
    await starting;
  } catch (err) {
    if (!(err instanceof StartupError)) {
      server.close();
      await pool.stop(0);
      throw err;
    }
    return fail(err.failure, err.workerId);
  }
  if (settings.warmupRequest !== undefined) {
    startup.setWarming(true);
    log.info('warming up: sending the warm-up request');
    const failure = await warmUp(pool, settings.warmupRequest, settings.entryScript);
    if (failure !== undefined) return fail(failure, 0);
    startup.setWarming(false);
  }
  startup.markReady();
  serving = true;
  warnOfSignature(entryInfo(), log);
  log.info({ url, port }, `listening on ${url}`);
  flushLogger(log); // tests wait for this line

  const livePool = pool;
  return {
    url,
    server,
    pool: livePool,
    async shutdown() {
      if (draining) return;
      draining = true;
      log.info('shutting down: finishing in-flight requests');
      server.close();
      server.closeIdleConnections();
      await livePool.stop(settings.shutdownTimeoutS * 1000);
      server.closeAllConnections();
      log.info('stopped');
      flushLogsSync();
    },
  };
}

/** A berth_signature that cannot be used is said at start, not only to the first protocol client (which gets OIP_SIGNATURE_INVALID). */
function warnOfSignature(info: EntryInfo | undefined, log: Logger): void {
  if (info === undefined) return;
  const parsed = parseSignature(info);
  if (!parsed.ok) log.warn({ code: 'OIP_SIGNATURE_INVALID', detail: parsed.detail }, `berth_signature cannot be used: ${parsed.detail}; the /v2 metadata and infer routes answer 500 until it is fixed`);
}
