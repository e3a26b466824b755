// `berth service debug S [--inspect] [--port P]`: runs a service's exact snapshot in the foreground (one worker, no scoring timeout) to reproduce a failure.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DebugSnapshot } from '../../control/api/debug-routes.js';
import { shipped } from '../../core/paths.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { SERVER_HELP } from './deploy.js';

/** "No scoring timeout": a day, so a request stopped at a breakpoint is never cut off. */
const NO_TIMEOUT_MS = 24 * 3_600_000;
const DEBUGPY_PORT = 5678;
const NODE_INSPECT_PORT = 9229;

/** Adds `debug` to the `service` command registered before it (kept in its own module: service.ts is busy). */
export function registerServiceDebug(program: Command, ctx: CliContext): void {
  const service = program.commands.find((c) => c.name() === 'service');
  if (service === undefined) return;
  service.command('debug').description('Run the service\'s exact snapshot (entry script, models, environment) here in the foreground: one worker, no scoring timeout')
    .argument('<name>')
    .option('--inspect', 'start a debugger: Node\'s inspector for JS scripts, debugpy for Python (the entry script waits for the client)')
    .option('--port <port>', 'local port to serve on', '5001')
    .option('--server <url>', SERVER_HELP)
    .action(async (name: string, opts: { inspect?: boolean; port: string; server?: string }) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) < 1 || Number(opts.port) > 65535) throw new BerthError('INVALID_ARGUMENT', { detail: `--port ${opts.port}: give a port number 1-65535` });
      const api = new ApiClient(parseClientSettings(opts, ctx.env));
      const python = (snap: DebugSnapshot): string => snap.python ?? 'python3';
      const isPython = (snap: DebugSnapshot): boolean => snap.entry_script.endsWith('.py');
      const snap = await api.call<DebugSnapshot>('POST', `/v1/services/${encodeURIComponent(name)}/debug-snapshot`);
      try {
        if (opts.inspect === true && isPython(snap)) checkDebugpy(python(snap), snap);
        const nodeArgs = opts.inspect === true && !isPython(snap) ? [`--inspect=127.0.0.1:${NODE_INSPECT_PORT}`] : [];
        const args = [...nodeArgs, shipped('bin/berth.js'), 'serve', '--entry-script', snap.entry_script, '--port', opts.port, '--worker-count', '1',
          '--scoring-timeout-ms', String(NO_TIMEOUT_MS), '--debug',
          ...(opts.inspect === true ? ['--init-timeout-s', String(NO_TIMEOUT_MS / 1000)] : []),
          ...(snap.model_dir === undefined ? [] : ['--model-dir', snap.model_dir]),
          ...(isPython(snap) ? ['--python', python(snap)] : [])];
        const env: Record<string, string | undefined> = { ...ctx.env, ...snap.env, ...(opts.inspect === true && isPython(snap) ? { BERTH_DEBUGPY_PORT: String(DEBUGPY_PORT) } : {}) };
        ctx.out(`debugging service ${snap.service} (generation ${snap.generation}) from its snapshot: ${snap.entry_script}`);
        if (snap.model_dir !== undefined) ctx.out(`models: ${snap.model_dir}`);
        if (snap.environment !== undefined) ctx.out(`environment: ${snap.environment}${snap.python === undefined ? '' : ` (${snap.python})`}`);
        if (opts.inspect === true) ctx.out(isPython(snap) ? `debugpy: attach to 127.0.0.1:${DEBUGPY_PORT} (init() waits for it)` : `node inspector: 127.0.0.1:${NODE_INSPECT_PORT} (chrome://inspect)`);
        ctx.out(`local URL: http://127.0.0.1:${opts.port}/score (one worker, no scoring timeout; Ctrl-C stops)`);
        const child = spawn(process.execPath, args, { env: env as NodeJS.ProcessEnv, cwd: snap.source_dir, stdio: 'inherit' });
        const stop = (): void => { child.kill('SIGTERM'); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal === null ? 1 : 0))));
        if (code !== 0) process.exitCode = code;
      } finally {
        if (snap.models_root !== undefined) removeTree(snap.models_root);
      }
    });
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
