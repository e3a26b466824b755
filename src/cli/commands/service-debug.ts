// `berth service debug S [--inspect] [--replay ID] [--port P]`: runs a service's exact snapshot in the foreground (one worker, no scoring timeout) to reproduce a failure.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CapturedWhole } from '../../control/api/capture-routes.js';
import type { DebugSnapshot } from '../../control/api/debug-routes.js';
import { shipped } from '../../core/paths.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { formatReply, replayCaptured } from '../debug-replay.js';
import { attachConfiguration, writeLaunchJson } from '../launch-json.js';
import { SERVER_HELP } from './deploy.js';
import { checkServiceName } from './service.js';

/** "No scoring timeout": a day, so a request stopped at a breakpoint is never cut off. */
const NO_TIMEOUT_MS = 24 * 3_600_000;
const DEBUGPY_PORT = 5678;
const NODE_INSPECT_PORT = 9229;

interface Opts { inspect?: boolean; inspectPort?: string; replay?: string; launchJson?: string | true; port: string; server?: string }

/** Adds `debug` to the `service` command registered before it (kept in its own module: service.ts is busy). */
export function registerServiceDebug(program: Command, ctx: CliContext): void {
  const service = program.commands.find((c) => c.name() === 'service');
  if (service === undefined) return;
  service.command('debug').description('Run the service\'s exact snapshot (entry script, models, environment) here in the foreground: one worker, no scoring timeout')
    .argument('<name>')
    .option('--inspect', 'start a debugger: Node\'s inspector for JS scripts, debugpy for Python (the entry script waits for the client); prints a VS Code attach configuration')
    .option('--inspect-port <port>', `the debugger's port (default ${DEBUGPY_PORT} for debugpy, ${NODE_INSPECT_PORT} for Node)`)
    .option('--launch-json [path]', 'with --inspect: write the attach configuration into this launch.json (default: .vscode/launch.json in the service\'s source folder), keeping its other configurations')
    .option('--replay <request-id>', 'send this captured failed request (berth service requests NAME --failed) once the snapshot is ready, print the reply, and stop')
    .option('--port <port>', 'local port to serve on', '5001')
    .option('--server <url>', SERVER_HELP)
    .action(async (name: string, opts: Opts) => {
      checkServiceName(name);
      const port = portOf('--port', opts.port);
      if (opts.launchJson !== undefined && opts.inspect !== true) throw new BerthError('INVALID_ARGUMENT', { detail: '--launch-json goes with --inspect: the configuration attaches to the debugger --inspect starts' });
      const api = new ApiClient(parseClientSettings(opts, ctx.env));
      // The capture first: a wrong id fails before any model is laid out.
      const captured = opts.replay === undefined ? undefined : await capturedRequest(api, name, opts.replay);
      // With --replay, stdout carries the reply alone; what the run says goes to stderr.
      const say = captured === undefined ? ctx.out : ctx.err;
      const snap = await api.call<DebugSnapshot>('POST', `/v1/services/${encodeURIComponent(name)}/debug-snapshot`);
      try {
        const python = snap.entry_script.endsWith('.py');
        const interpreter = snap.python ?? 'python3';
        const inspectPort = opts.inspectPort === undefined ? (python ? DEBUGPY_PORT : NODE_INSPECT_PORT) : portOf('--inspect-port', opts.inspectPort);
        if (opts.inspect === true && python) checkDebugpy(interpreter, snap);
        // A replay must not run before the debugger is there: Node waits for it too (--inspect-wait), as debugpy does.
        const nodeArgs = opts.inspect === true && !python ? [`--inspect${captured === undefined ? '' : '-wait'}=127.0.0.1:${inspectPort}`] : [];
        const args = [...nodeArgs, shipped('bin/berth.js'), 'serve', '--entry-script', snap.entry_script, '--port', String(port), '--worker-count', '1',
          '--scoring-timeout-ms', String(NO_TIMEOUT_MS), '--debug',
          ...(opts.inspect === true ? ['--init-timeout-s', String(NO_TIMEOUT_MS / 1000)] : []),
          ...(snap.model_dir === undefined ? [] : ['--model-dir', snap.model_dir]),
          ...(python ? ['--python', interpreter] : [])];
        const env: Record<string, string | undefined> = { ...ctx.env, ...snap.env, ...(opts.inspect === true && python ? { BERTH_DEBUGPY_PORT: String(inspectPort) } : {}) };
        say(`debugging service ${snap.service} (generation ${snap.generation}) from its snapshot: ${snap.entry_script}`);
        if (snap.model_dir !== undefined) say(`models: ${snap.model_dir}`);
        if (snap.environment !== undefined) say(`environment: ${snap.environment}${snap.python === undefined ? '' : ` (${snap.python})`}`);
        if (captured?.generation !== undefined && captured.generation !== snap.generation) {
          say(`note: request ${captured.request_id} failed on generation ${captured.generation}; the service runs generation ${snap.generation} now, and that is what runs here`);
        }
        if (opts.inspect === true) inspectNotes(say, snap, python, inspectPort, opts.launchJson, ctx.cwd);
        say(`local URL: http://127.0.0.1:${port}/score (one worker, no scoring timeout; Ctrl-C stops)`);
        const child = spawn(process.execPath, args, { env: env as NodeJS.ProcessEnv, cwd: snap.source_dir, stdio: captured === undefined ? 'inherit' : ['ignore', 2, 2] });
        const stop = (): void => { child.kill('SIGTERM'); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const exited = new Promise<number>((done) => child.on('exit', (c, signal) => done(c ?? (signal === null ? 1 : 0))));
        if (captured !== undefined) {
          say(`replaying request ${captured.request_id} (${captured.method} ${captured.path}, answered ${captured.status} at ${captured.time}${captured.replica === undefined ? '' : ` by replica ${captured.replica}`}) once the snapshot is ready`);
          try {
            ctx.out(formatReply(await replayCaptured(port, captured, child, snap.service)));
          } finally {
            stop();
            await exited;
          }
          return;
        }
        const code = await exited;
        if (code !== 0) process.exitCode = code;
      } finally {
        if (snap.models_root !== undefined) removeTree(snap.models_root);
      }
    });
}

async function capturedRequest(api: ApiClient, service: string, requestId: string): Promise<CapturedWhole> {
  const c = await api.call<CapturedWhole>('GET', `/v1/services/${service}/requests/${encodeURIComponent(requestId)}`);
  if (c.body_omitted !== undefined) throw new BerthError('REPLAY_NOT_POSSIBLE', { service, requestId, reason: `its body was not kept (${c.body_omitted})` });
  return c;
}

/** Where to attach, and the VS Code configuration that maps the user's files to the snapshot's (printed; written with --launch-json). */
function inspectNotes(say: (line: string) => void, snap: DebugSnapshot, python: boolean, port: number, launchJson: string | true | undefined, cwd: string): void {
  say(python ? `debugpy: attach to 127.0.0.1:${port} (init() waits for it)` : `node inspector: 127.0.0.1:${port} (chrome://inspect)`);
  const config = attachConfiguration({ service: snap.service, python, port, userSourceDir: snap.user_source_dir, snapshotSourceDir: snap.source_dir });
  if (launchJson === undefined) {
    say('VS Code attach configuration (for .vscode/launch.json; --launch-json writes it there), so breakpoints in your own files bind:');
    say(JSON.stringify(config, null, 2));
    return;
  }
  const path = launchJson === true ? join(snap.user_source_dir, '.vscode', 'launch.json') : resolve(cwd, launchJson);
  say(`${writeLaunchJson(path, config)} ${path}: configuration "${config.name}" maps ${snap.user_source_dir} to the snapshot ${snap.source_dir}`);
}

function portOf(flag: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new BerthError('INVALID_ARGUMENT', { detail: `${flag} ${text}: give a port number 1-65535` });
  return Number(text);
}

/** debugpy must be importable by the service's interpreter; otherwise say how to get it. */
function checkDebugpy(python: string, snap: DebugSnapshot): void {
  const r = spawnSync(python, ['-c', 'import debugpy'], { stdio: 'ignore', timeout: 30_000 });
  if (r.status === 0) return;
  const how = snap.environment === undefined
    ? `${python} -m pip install debugpy`
    : `add debugpy to the requirements of environment ${snap.environment} and create a new version (berth env create), or: ${python} -m pip install debugpy`;
  throw new BerthError('DEBUGGER_NOT_AVAILABLE', { python, service: snap.service, how });
}

/** The laid-out models are read-only (as replicas get them): make folders writable, then remove. */
function removeTree(dir: string): void {
  const walk = (d: string): void => {
    try {
      if (!statSync(d).isDirectory()) return;
      chmodSync(d, 0o700);
      for (const n of readdirSync(d)) walk(join(d, n));
    } catch { /* gone */ }
  };
  walk(dir);
  rmSync(dir, { recursive: true, force: true });
}
