// Helpers for service integration tests: a control plane with small capacity and short timeouts, CLI calls, polling, and cleanup of replicas.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { berth, down, tempDir, up, type CliRun, type RunningPlane } from './control-plane.js';
import type { ServiceDetail } from '../../src/control/services/view.js';
import type { ServiceEvent } from '../../src/control/services/events.js';
import { REPLICA_KEY_HEADER, ReplicaKeys } from '../../src/core/replica-key.js';
import { homeSecret } from '../../src/core/secrets.js';

export { fixture } from './serve-process.js';

export interface Plane extends RunningPlane {
  /** `berth ARGS` against this plane. */
  cli(args: readonly string[], timeoutMs?: number): Promise<CliRun>;
  /** Like cli(), but fails unless it exits 0. */
  ok(args: readonly string[], timeoutMs?: number): Promise<string>;
  show(name: string): Promise<ServiceDetail>;
  events(name: string): Promise<ServiceEvent[]>;
}

/** Starts a control plane in a fresh home; `berth up` flags default to a fixed, small capacity and a 3 s schedule timeout. */
export async function startPlane(extra: readonly string[] = ['--capacity', 'cpu=4,memory_gb=8,gpu=1', '--schedule-timeout', '3s'], home = tempDir('berth-svc-')): Promise<Plane> {
  const running = await up(home, extra);
  return withCli(running);
}

export function withCli(running: RunningPlane): Plane {
  const { home } = running;
  const cli = (args: readonly string[], timeoutMs = 60_000): Promise<CliRun> => berth(args, { home, timeoutMs });
  const ok = async (args: readonly string[], timeoutMs?: number): Promise<string> => {
    const r = await cli(args, timeoutMs);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  return {
    ...running,
    cli,
    ok,
    show: async (name) => JSON.parse(await ok(['service', 'show', name, '-o', 'json'])) as ServiceDetail,
    events: async (name) => JSON.parse(await ok(['service', 'events', name, '-o', 'json', '--limit', '1000'])) as ServiceEvent[],
  };
}

/** Polls `check` until it returns a value other than undefined (bounded); the value is returned. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pids of replica processes of `home`: their command line mentions it (scripts snapshotted under it), or they work in a folder of it. */
export function processesUnder(home: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // A replica that began as the plane's standby names no file of the home; it works in one of its folders. The
      // standby still waiting (in the logs' .standby folder) is the plane's, not a replica: it leaves with the plane.
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(home + '/') || (cwd.startsWith(home + '/') && !/\/\.standby( \(deleted\))?$/.test(cwd))) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * Stops the plane running for the home (which stops its replicas; after a test killed and restarted the plane, the new
 * one), then kills whatever of the home still runs: processes, and containers labelled with the home.
 */
export async function stopPlane(plane: Plane): Promise<void> {
  await down(plane.home).catch(() => undefined);
  for (const pid of processesUnder(plane.home)) {
    for (const target of [-pid, pid]) {
      try { process.kill(target, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  if (existsSync('/var/run/docker.sock') || process.env.DOCKER_HOST !== undefined) await removeContainersOf(plane.home).catch(() => undefined);
}

async function removeContainersOf(home: string): Promise<void> {
  const [{ dockerClient }, { homeLabel }] = await Promise.all([import('../../src/images/docker.js'), import('../../src/targets/docker/docker-runtime.js')]);
  const docker = dockerClient({ ...process.env });
  const left = await docker.listContainers({ all: true, filters: { label: [`berth.home=${homeLabel(home)}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

/** The header a replica of `home`'s control plane wants on /score: its own key, as the gateway sends it. */
export function replicaKeyHeader(home: string, replicaId: string): Record<string, string> {
  return { [REPLICA_KEY_HEADER]: new ReplicaKeys(homeSecret(home, 'replica-keys.key')).keyFor(replicaId) };
}

/** POSTs a body to a scoring URI, with `Authorization: Bearer <key>` when a key (or token) is given. */
export async function score(uri: string, body: unknown, key?: string, extra: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...extra };
  const res = await fetch(uri, { method: 'POST', body: JSON.stringify(body), headers, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, text: await res.text() };
}

/** The `Authorization` header for a service's primary key. */
export const bearer = (key: string): { authorization: string } => ({ authorization: `Bearer ${key}` });
