// `berth serve`: runs the inference server for one entry script in the foreground.
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { parseServeSettings, type ServeInput } from '../../inference/settings.js';
import { startServer } from '../../inference/serve.js';
import { createLogger } from '../../core/logger.js';
import { BerthError } from '../../errors/catalogue.js';
import { REPLICA_KEY_ENV } from '../../core/replica-key.js';

/** Each setting's flag; the classic server's underscore spelling is accepted as a hidden alias. */
const FLAGS: ReadonlyArray<readonly [key: string, flag: string, description: string]> = [
  ['entryScript', 'entry-script <path>', 'the score.py (or .js/.mjs/.ts module) with init() and run() [env AZUREML_ENTRY_SCRIPT]'],
  ['modelDir', 'model-dir <dir>', 'model directory; sets AZUREML_MODEL_DIR and BERTH_MODEL_DIR [env AZUREML_MODEL_DIR]'],
  ['port', 'port <n>', 'port to listen on (default 5001; 0 picks a free one)'],
  ['host', 'host <addr>', 'address to listen on (default 127.0.0.1)'],
  ['workerCount', 'worker-count <n>', 'workers, each calling init() once: Python processes; for a JS script, 2 or more are threads (default 1) [env WORKER_COUNT]'],
  ['scoringTimeoutMs', 'scoring-timeout-ms <ms>', 'time allowed for one run() (default 60000) [env SCORING_TIMEOUT_MS]'],
  ['firstChunkTimeoutMs', 'first-chunk-timeout-ms <ms>', 'a streaming run(): time allowed for its first chunk (default: the scoring timeout) [env BERTH_FIRST_CHUNK_TIMEOUT_MS]'],
  ['chunkTimeoutMs', 'chunk-timeout-ms <ms>', 'a streaming run(): time allowed between chunks (default: the scoring timeout) [env BERTH_CHUNK_TIMEOUT_MS]'],
  ['maxQueueWaitMs', 'max-queue-wait-ms <ms>', 'longest wait for a free worker before 503 (default 500)'],
  ['maxConcurrentRequests', 'max-concurrent-requests <n>', 'requests run at once (default: the worker count)'],
  ['initTimeoutS', 'init-timeout-s <s>', 'time allowed for init() (default 600)'],
  ['maxRequestSizeMb', 'max-request-size-mb <mb>', 'largest request body (default 100)'],
  ['shutdownTimeoutS', 'shutdown-timeout-s <s>', 'on SIGTERM, how long in-flight requests may finish (default 30)'],
  ['warmupRequest', 'warmup-request <body>', 'a request body (usually JSON) run once after init(): ready only when run() answers it 2xx [env BERTH_WARMUP_REQUEST]'],
  ['bodyTimeoutS', 'body-timeout-s <s>', 'a request\'s headers and body must arrive within this, else 408 (default 60)'],
  ['python', 'python <path>', 'Python interpreter for the workers (default python3)'],
  ['logFile', 'log-file <path>', 'append the JSON log lines to this file instead of standard output [env BERTH_LOG_FILE]'],
  ['corsOrigins', 'cors-origins <list>', 'comma-separated origins allowed by CORS [env AML_CORS_ORIGINS]'],
  ['modelName', 'model-name <name>', 'the model name of the Open Inference Protocol routes /v2/models/NAME (default: the entry script\'s file name without extension) [env BERTH_MODEL_NAME]'],
  ['modelVersion', 'model-version <v>', 'the model version over the Open Inference Protocol (default: none) [env BERTH_MODEL_VERSION]'],
];

/** The classic server's spelling of a flag: `worker-count <n>` → `worker_count` (also commander's attribute name for it). */
const classicName = (flag: string): string => flag.split(' ')[0]!.replace(/-/g, '_');

export function registerServe(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('serve')
    .description('Serve an entry script over HTTP: POST /score calls run(), GET / is liveness, GET /ready readiness')
    .option('--debug', 'put run() exceptions and tracebacks in 500 responses');
  for (const [, flag, description] of FLAGS) {
    cmd.option(`--${flag}`, description);
    const alias = classicName(flag);
    if (alias !== flag.split(' ')[0]) cmd.addOption(new Option(`--${alias} ${flag.split(' ')[1] ?? ''}`.trim()).hideHelp());
  }
  // The classic server's name for the CORS flag.
  cmd.addOption(new Option('--access_control_allow_origins <list>').hideHelp());
  cmd.option('--env <name[:version]>', 'run in a berth environment: its python and variables (the control plane builds it if needed)');
  cmd.option('--server <url>', 'control plane URL for --env (default $BERTH_SERVER, else the one running for $BERTH_HOME)');
  // The control plane's pre-started replica process (src/targets/local/standby.ts); not for users.
  cmd.addOption(new Option('--standby').hideHelp());

  cmd.action(async (opts: Record<string, string | boolean | undefined>) => {
    if (opts.standby === true) return (await import('./serve-standby.js')).runStandby(ctx, registerServe);
    const input: Record<string, ServeInput[string]> = { debug: opts.debug === true ? true : undefined };
    for (const [key, flag] of FLAGS) input[key] = (opts[key] ?? opts[classicName(flag)]) as string | undefined;
    input.corsOrigins ??= opts.access_control_allow_origins as string | undefined;
    // --env: the environment's interpreter, and its variables over this process's own (workers inherit them).
    if (typeof opts.env === 'string' && input.python !== undefined) throw new BerthError('INVALID_ARGUMENT', { detail: '--python and --env both choose the interpreter: give one of them' });
    // Loaded only for --env: a replica's berth serve starts without the control plane's client code.
    const envWait = typeof opts.env === 'string' ? await import('../env-wait.js') : undefined;
    const runtime = envWait !== undefined ? await envWait.resolveServeEnvironment(opts.env as string, { server: opts.server as string | undefined }, ctx) : undefined;
    if (runtime?.python !== undefined) input.python = runtime.python;
    if (runtime !== undefined) await envWait!.restartWithNodePath(runtime, ctx, process.argv);
    const env = runtime === undefined ? ctx.env : { ...ctx.env, ...runtime.env };
    const settings = parseServeSettings(input, env);
    // The replica key is the server's alone: the entry script's workers (processes, threads, this thread) never see it.
    const { [REPLICA_KEY_ENV]: _key, ...workerEnv } = env;
    delete process.env[REPLICA_KEY_ENV];
    const log = createLogger({ name: 'berth-serve', ...(settings.logFile === undefined ? {} : { destination: settings.logFile }) });
    const running = await startServer({ settings, log, env: workerEnv, printError: ctx.err });
    const stop = (): void => {
      void running.shutdown().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
