// `berth up`: runs the control plane in the foreground, or (--detach) starts it in the background and waits until it answers.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BerthError } from '../../errors/catalogue.js';
import { createLogger, flushLogsSync } from '../../core/logger.js';
import { DEFAULT_LOG_CAP_BYTES, capLogFile, writesTo } from '../../core/log-cap.js';
import { shipped } from '../../core/paths.js';
import { liveRunInfo, readRunFile } from '../../control/runfile.js';
import { parseControlSettings, type ControlSettings } from '../../control/settings.js';
import { resolveAdminToken, type AdminToken } from '../../control/admin-token.js';
import type { Status } from '../../control/api/system-routes.js';
import { ApiClient } from '../api-client.js';
import { adminTokenNotice, withoutAdminToken } from '../admin-token-notice.js';
import type { CliContext } from '../context.js';

const DETACH_TIMEOUT_MS = 30_000;

export function registerUp(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('Start the berth control plane (REST API) with its store under $BERTH_HOME')
    .option('--port <n>', 'port to listen on (default 7070; 0 picks a free one)')
    .option('--host <addr>', 'address to listen on (default 127.0.0.1)')
    .option('--home <dir>', 'where berth keeps its state (default $BERTH_HOME, else ~/.berth)')
    .option('--capacity <cpu=…,memory_gb=…,gpu=…>', 'what replicas may use on this machine (default: detected cores, memory and nvidia-smi GPUs); any subset')
    .option('--schedule-timeout <duration>', 'how long a replica waits for resources before its deployment fails: 300, 90s, 5m, 00:05:00 (default 5m)')
    .option('--restart-backoff <duration>', 'delay before a crashed replica\'s first restart, doubling up to 5 min (default 10s, at most 5m)')
    .option('--autoscale-stabilization <duration>', 'how long load must stay below target before the autoscaler removes replicas (default 60s)')
    .option('--body-timeout <duration>', 'a scoring request\'s body must arrive within this, else 408; no replica is held meanwhile (default 60s)')
    .option('--max-request-size-mb <mb>', 'largest scoring request body; the gateway answers 413 itself and replicas get the same limit (default 100)')
    .option('--registry <host:port[/namespace]>', 'container images: look them up in, push them to and run them from this registry (credentials from the Docker config)')
    .option('--base-image <name>', 'container images: a base with python3 instead of berth\'s own berth/base:bookworm')
    .option('--target <local|kubernetes>', 'where replicas run: this machine (default), or a Kubernetes cluster (pods of each service\'s image; needs --registry)')
    .option('--kubeconfig <path>', 'kubernetes target: the kubeconfig to use (default: in-cluster configuration inside a pod, else KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubernetes target: the kubeconfig context (default: its current one)')
    .option('--namespace <name>', 'kubernetes target: the namespace berth works in (default berth)')
    .option('--plane-url <url>', 'kubernetes target: where pods reach this control plane to fetch models (default: the URL it listens on)')
    .option('--container-network <bridge|host>', 'containers: their own network with port 5001 published on a free loopback port (bridge, default), or this machine\'s network with berth serve on a free 127.0.0.1 port (host: no relay in between, less isolation)')
    .option('--no-replica-standby', 'start each process replica\'s berth serve when it is needed; by default one is pre-started and kept waiting, so a replica is ready 0.15–0.2 s sooner')
    .option('--runtime <process|docker>', 'where replicas of deployments that do not name a runtime run: berth serve processes (default) or containers of an image built from the environment and source')
    .option('--detach', 'run in the background, log to $BERTH_HOME/logs/control-plane.log, return once it answers')
    .option('--admin-token-file <file>', 'file holding the admin token (16+ printable characters) that the admin API requires; default BERTH_ADMIN_TOKEN; off loopback with neither, one is generated into $BERTH_HOME/admin-token and printed once')
    .option('--admin-token <token>', 'the admin token itself; visible to other users in ps, so prefer --admin-token-file or BERTH_ADMIN_TOKEN')
    .addHelpText('after', '\nOn a loopback --host (127.0.0.1, ::1, localhost) the admin API needs no token unless one is given. On any other\nhost (0.0.0.0, ::, a LAN address) it always requires one: Authorization: Bearer <token> on every /v1/... request.')
    .action(async (opts: UpOptions) => {
      const settings = parseControlSettings(opts, ctx.env);
      if (opts.detach === true) await startDetached(settings, ctx);
      else await runForeground(settings, ctx);
    });
}

interface UpOptions {
  port?: string; host?: string; home?: string; capacity?: string; scheduleTimeout?: string; restartBackoff?: string; autoscaleStabilization?: string;
  bodyTimeout?: string; maxRequestSizeMb?: string; registry?: string; baseImage?: string; runtime?: string; containerNetwork?: string; replicaStandby?: boolean; detach?: boolean;
  target?: string; kubeconfig?: string; context?: string; namespace?: string; planeUrl?: string; adminToken?: string; adminTokenFile?: string;
}

/** The token this start enforces (made now when off loopback and none exists); refused before anything is made if the home is taken. */
function adminTokenFor(settings: ControlSettings): AdminToken | undefined {
  const running = liveRunInfo(settings.home);
  if (running !== undefined) throw new BerthError('CONTROL_PLANE_ALREADY_RUNNING', { server: running.url ?? `home ${settings.home}`, pid: running.pid });
  return resolveAdminToken({ home: settings.home, host: settings.host, source: settings.adminTokenSource });
}

/** A token generated for a start that failed is removed, so the next start generates and prints one again. */
function forgetGenerated(token: AdminToken | undefined): void {
  if (token?.generated === true && token.file !== undefined) rmSync(token.file, { force: true });
}

/** How often the control plane's own log is checked against the cap. */
const LOG_CAP_CHECK_MS = 5000;

async function runForeground(settings: ControlSettings, ctx: CliContext): Promise<void> {
  const logger = createLogger({ name: 'berth-control' });
  // Loaded here, not at the top: every other command would otherwise pay for loading the store and the API.
  const { startControlPlane } = await import('../../control/app.js');
  const adminToken = adminTokenFor(settings);
  const plane = await startControlPlane(settings, logger, { env: withoutAdminToken(ctx.env), adminToken }).catch((err: unknown) => {
    forgetGenerated(adminToken);
    throw err;
  });
  // Detached, stdout is the log file: keep it under the cap as replicas' logs are.
  const logFile = join(settings.home, 'logs', 'control-plane.log');
  if (writesTo(1, logFile)) setInterval(() => { try { capLogFile(logFile, join(settings.home, 'logs', 'control-plane.rotated.log'), DEFAULT_LOG_CAP_BYTES); } catch { /* next time */ } }, LOG_CAP_CHECK_MS).unref();
  ctx.err(`berth control plane listening on ${plane.url} (home ${settings.home}, pid ${process.pid}); stop it with Ctrl-C or berth down`);
  for (const line of adminTokenNotice(settings.host, adminToken)) ctx.err(line);
  const stop = (): void => {
    void plane.close().then(
      () => {
        flushLogsSync();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'stopping failed');
        flushLogsSync();
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Starts `berth up` (foreground mode) as a detached child and returns once its API answers with the child's pid. */
async function startDetached(settings: ControlSettings, ctx: CliContext): Promise<void> {
  const adminToken = adminTokenFor(settings);
  try {
    await spawnDetached(settings, adminToken, ctx);
  } catch (err) {
    forgetGenerated(adminToken);
    throw err;
  }
  // Printed here, never by the child: its output is the log file.
  for (const line of adminTokenNotice(settings.host, adminToken)) ctx.out(line);
}

async function spawnDetached(settings: ControlSettings, adminToken: AdminToken | undefined, ctx: CliContext): Promise<void> {
  mkdirSync(settings.home, { recursive: true, mode: 0o700 });
  const logDir = join(settings.home, 'logs');
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, 'control-plane.log');
  const fd = openSync(log, 'a');
  const logStart = fstatSync(fd).size; // earlier runs' lines are not this start's error
  const args = [shipped('bin/berth.js'), 'up', '--port', String(settings.port), '--host', settings.host, '--home', settings.home, '--schedule-timeout', `${settings.scheduleTimeoutMs}ms`, '--restart-backoff', `${settings.restartBackoffMs}ms`, '--autoscale-stabilization', `${settings.autoscaleStabilizationMs}ms`, '--body-timeout', `${settings.bodyTimeoutMs}ms`, '--max-request-size-mb', String(settings.maxRequestSizeMb)];
  if (settings.capacityText !== undefined) args.push('--capacity', settings.capacityText);
  if (settings.registry !== undefined) args.push('--registry', settings.registry);
  if (settings.baseImage !== undefined) args.push('--base-image', settings.baseImage);
  args.push('--runtime', settings.runtime, '--container-network', settings.containerNetwork, '--target', settings.target);
  if (!settings.replicaStandby) args.push('--no-replica-standby');
  const k = settings.kubernetes;
  if (k !== undefined) {
    args.push('--namespace', k.namespace);
    if (k.kubeconfig !== undefined) args.push('--kubeconfig', k.kubeconfig);
    if (k.context !== undefined) args.push('--context', k.context);
    if (k.planeUrl !== undefined) args.push('--plane-url', k.planeUrl);
  }
  // The child gets the token as a file or in its environment, never on its command line (ps shows that to everyone).
  const env = { ...withoutAdminToken(ctx.env) };
  if (adminToken?.file !== undefined) args.push('--admin-token-file', adminToken.file);
  else if (adminToken !== undefined) env.BERTH_ADMIN_TOKEN = adminToken.value;
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  child.unref();
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ?? `exit code ${code}`;
  });
  const deadline = Date.now() + DETACH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    if (exited !== undefined) throw new BerthError('CONTROL_PLANE_START_FAILED', { detail: lastError(log, logStart) ?? `it ended (${exited})`, log });
    const info = readRunFile(settings.home);
    if (info === undefined || info.pid !== child.pid || info.url === undefined) continue;
    const client = new ApiClient({ server: info.url, ...(adminToken === undefined ? {} : { adminToken: { value: adminToken.value, from: adminToken.from } }) });
    const status = await client.call<Status>('GET', '/v1/status').catch(() => undefined);
    if (status !== undefined && status.pid === child.pid) {
      ctx.out(`berth control plane running at ${info.url} (pid ${status.pid}, home ${settings.home}, log ${log})`);
      ctx.out(`dashboard: ${info.url}/ui/`);
      return;
    }
  }
  child.kill('SIGTERM');
  throw new BerthError('CONTROL_PLANE_START_FAILED', { detail: `it did not answer within ${DETACH_TIMEOUT_MS / 1000} s`, log });
}

/** The message of the last `berth: ...` line the child wrote to its log since `from`, if any. */
function lastError(log: string, from: number): string | undefined {
  const fd = openSync(log, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 64 * 1024);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.startsWith('berth: '));
    return lines.at(-1)?.slice('berth: '.length);
  } finally {
    closeSync(fd);
  }
}
