// The docker runtime: each run is a container of the service's image, driven through the Docker Engine API; its output lands in the replica's log files.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type Docker from 'dockerode';
import type { ReplicaRuntime, RunHandle } from '../runtime.js';
import type { Clock } from '../../core/clock.js';
import { describeProbe, httpGet, probeSucceeded } from '../local/probes.js';
import { closeFd, ListeningFollower, openRunLog } from '../local/replica-logs.js';
import { isContainerRecord, type AdoptionRecord, type MemoryStatus, type ReplicaLogPaths, type ReplicaSpec } from '../types.js';
import { ContainerRun } from './container-run.js';
import { containerOptions, LABELS, PORT_KEY, type ContainerSettings } from './container-options.js';

export interface DockerRuntimeOptions extends Omit<ContainerSettings, 'homeLabel'> {
  /** The engine, connected (and pinged) on first use: a control plane without Docker still starts. */
  readonly docker: () => Promise<Docker>;
  readonly clock: Clock;
  /** The control plane's home: its containers carry a label derived from it. */
  readonly home: string;
}

/** The label value naming a home: a digest, so paths do not leak into labels. */
export function homeLabel(home: string): string {
  return createHash('sha256').update(home).digest('hex').slice(0, 16);
}

export class DockerRuntime implements ReplicaRuntime {
  readonly kind = 'docker' as const;
  private readonly settings: ContainerSettings;
  private runs = 0;

  constructor(private readonly o: DockerRuntimeOptions) {
    this.settings = { homeLabel: homeLabel(o.home), ...(o.replicaKey ? { replicaKey: o.replicaKey } : {}), ...(o.maxRequestSizeMb ? { maxRequestSizeMb: o.maxRequestSizeMb } : {}), ...(o.network ? { network: o.network } : {}) };
  }

  url(port: number): string {
    return `http://127.0.0.1:${port}`;
  }

  async launch(spec: ReplicaSpec, logs: ReplicaLogPaths): Promise<RunHandle> {
    // Rotates the previous run's log aside, as for processes; berth serve in the container appends to the new one (mounted).
    closeFd(openRunLog(logs));
    const name = `berth-${spec.replicaId}-${Date.now().toString(36)}${(this.runs++).toString(36)}`;
    const docker = await this.o.docker();
    const container = await docker.createContainer(containerOptions(spec, this.settings, name, logs.current));
    try {
      // Attached before it starts, so not one line of its output is missed.
      const output = await container.attach({ stream: true, stdout: true, stderr: true, logs: true });
      await container.start();
      const info = await container.inspect();
      return new ContainerRun({ docker, container, info, output, logPath: logs.current, adopted: false, limitBytes: spec.memoryLimitBytes });
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
  }

  async adopt(spec: ReplicaSpec, record: AdoptionRecord, logs: ReplicaLogPaths): Promise<RunHandle | { problem: string }> {
    if (!isContainerRecord(record)) return { problem: `it was recorded as process ${record.pid}, not a container` };
    const docker = await this.o.docker();
    const container = docker.getContainer(record.containerId);
    let info: Docker.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (err) {
      return { problem: `container ${record.containerId.slice(0, 12)} is gone (${(err as Error).message})` };
    }
    if (!info.State.Running) return { problem: `container ${record.containerId.slice(0, 12)} is not running (${info.State.Status})` };
    if (info.Config.Labels[LABELS.replica] !== spec.replicaId) return { problem: `container ${record.containerId.slice(0, 12)} is not replica ${spec.replicaId}` };
    // On the host network the port is the one berth serve picked: its line in the run's log says which.
    const port = record.port > 0 ? record.port : new ListeningFollower(logs.current).poll();
    if (port === undefined) return { problem: `container ${record.containerId.slice(0, 12)} has no port in its log` };
    const r = await httpGet(`${this.url(port)}/`, 2000, this.o.clock);
    if (!probeSucceeded(r)) return { problem: `container ${record.containerId.slice(0, 12)} does not answer on port ${port} (${describeProbe(r)})` };
    // Output written while nobody listened: from the log file's last write on (a second may repeat).
    const since = Math.floor(mtimeMs(logs.current) / 1000);
    const output = await container.logs({ follow: true, stdout: true, stderr: true, since });
    return new ContainerRun({ docker, container, info, output, logPath: logs.current, adopted: true, limitBytes: spec.memoryLimitBytes, knownPort: port });
  }

  /** The running container of a replica, found by its labels (how a restarted control plane finds what to adopt). */
  async locate(spec: ReplicaSpec): Promise<AdoptionRecord | undefined> {
    const docker = await this.o.docker();
    const found = await docker.listContainers({ filters: { label: [`${LABELS.home}=${this.settings.homeLabel}`, `${LABELS.replica}=${spec.replicaId}`], status: ['running'] } });
    const c = found[0];
    if (c === undefined) return undefined;
    // Published on bridge networks; on the host network berth serve picked its own (0 here: adopt reads it from the log).
    const port = c.HostConfig.NetworkMode === 'host' ? 0 : c.Ports.find((p) => `${p.PrivatePort}/${p.Type}` === PORT_KEY && p.PublicPort !== undefined)?.PublicPort;
    if (port === undefined) return undefined;
    const info = await docker.getContainer(c.Id).inspect();
    return { containerId: c.Id, port, pid: info.State.Pid };
  }

  async removeLeftovers(keep: ReadonlySet<string>): Promise<number> {
    const docker = await this.o.docker();
    const found = await docker.listContainers({ all: true, filters: { label: [`${LABELS.home}=${this.settings.homeLabel}`] } });
    const gone = found.filter((c) => !keep.has(c.Labels[LABELS.replica] ?? ''));
    await Promise.all(gone.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    return gone.length;
  }

  async discard(record: AdoptionRecord): Promise<void> {
    if (!isContainerRecord(record)) return;
    const docker = await this.o.docker().catch(() => undefined);
    await docker?.getContainer(record.containerId).remove({ force: true }).catch(() => undefined);
  }

  memory(spec: ReplicaSpec): MemoryStatus {
    return spec.memoryLimitBytes === undefined ? { enforcement: 'none' } : { enforcement: 'container', limitBytes: spec.memoryLimitBytes };
  }

  dispose(): Promise<void> {
    // Each run's container is removed when the run ends: nothing is kept across runs.
    return Promise.resolve();
  }
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}
