// One run as a container: its output copied into the replica's log, its memory peak followed, its end read from the Engine API (exit code, OOMKilled).
import { createWriteStream, type WriteStream } from 'node:fs';
import { constants } from 'node:os';
import type Docker from 'dockerode';
import type { RunExit, RunHandle } from '../runtime.js';
import type { ContainerAdoptionRecord, OomReport } from '../types.js';
import { PORT_KEY } from './container-options.js';
import { ListeningFollower } from '../local/replica-logs.js';

export interface ContainerRunInit {
  readonly container: Docker.Container;
  readonly info: Docker.ContainerInspectInfo;
  /** The container's multiplexed stdout and stderr. */
  readonly output: NodeJS.ReadableStream;
  readonly docker: Docker;
  readonly logPath: string;
  readonly adopted: boolean;
  readonly limitBytes: number | undefined;
  /** Where this run's output starts in the log file (an adopted run's earlier lines are not its port). */
  readonly logOffset?: number;
  /** The port, when already known (an adopted run on the host network). */
  readonly knownPort?: number;
}

/** How long the rest of a stopped container's output may take to arrive before its end is reported. */
const OUTPUT_DRAIN_MS = 2000;

export class ContainerRun implements RunHandle {
  readonly label: string;
  readonly pid: number | undefined;
  readonly adopted: boolean;
  private hostPort: number | undefined;
  /** With host networking the port is the one `berth serve` picked, read from its `probes on` line. */
  private readonly follower: ListeningFollower | undefined;
  private readonly file: WriteStream;
  private readonly outputEnded: Promise<void>;
  private readonly abort = new AbortController();
  private exitHandler: ((exit: RunExit) => void) | undefined;
  private exit: RunExit | undefined;
  private ended = false;
  private released = false;
  private peakBytes = 0;

  constructor(private readonly init: ContainerRunInit) {
    const { info, output } = init;
    this.pid = info.State.Pid > 0 ? info.State.Pid : undefined;
    this.adopted = init.adopted;
    this.label = `container ${info.Id.slice(0, 12)}${this.pid === undefined ? '' : `, pid ${this.pid}`}`;
    const binding = info.NetworkSettings.Ports[PORT_KEY]?.[0];
    this.hostPort = binding === undefined ? init.knownPort : Number(binding.HostPort);
    this.follower = binding === undefined ? new ListeningFollower(init.logPath, init.logOffset) : undefined;
    this.file = createWriteStream(init.logPath, { flags: 'a' });
    this.file.on('error', () => undefined); // a full disk must not end supervision
    this.outputEnded = new Promise((resolve) => {
      output.once('end', resolve);
      output.once('close', resolve);
      output.once('error', () => resolve());
    });
    init.docker.modem.demuxStream(output, this.file, this.file);
    if (init.limitBytes !== undefined) void this.followMemory();
    void this.waitForEnd();
  }

  port(): number | undefined {
    return (this.hostPort ??= this.follower?.poll());
  }

  onExit(onExit: (exit: RunExit) => void): void {
    this.exitHandler = onExit;
    if (this.exit !== undefined) onExit(this.exit);
  }

  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    // Not running any more (409) or gone (404): its end is on its way through wait().
    this.init.container.kill({ signal }).catch(() => undefined);
  }

  /**
   * The kernel enforces the container's limit, and may kill only a worker inside it; as on the process target, any OOM
   * kill in the replica ends the whole run as OOMKilled (the daemon's `oom` event says when).
   */
  watchMemory(limitBytes: number, onOom: (report: OomReport) => void): void {
    void this.followOomEvents(() => onOom(this.oomReport(limitBytes)));
  }

  adoptionRecord(): ContainerAdoptionRecord | undefined {
    if (this.ended || this.hostPort === undefined) return undefined;
    return { containerId: this.init.info.Id, port: this.hostPort, pid: this.pid ?? 0 };
  }

  release(): void {
    this.released = true;
    this.ended = true;
    this.abort.abort();
    (this.init.output as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    this.file.end();
  }

  private async waitForEnd(): Promise<void> {
    const { container } = this.init;
    try {
      await container.wait({ abortSignal: this.abort.signal });
    } catch {
      // Aborted by release(), or the daemon went away; inspect below says what it can.
    }
    if (this.released) return;
    await Promise.race([this.outputEnded, new Promise((r) => setTimeout(r, OUTPUT_DRAIN_MS))]);
    await new Promise<void>((resolve) => this.file.end(resolve));
    let state: Docker.ContainerInspectInfo['State'] | undefined;
    try {
      state = (await container.inspect()).State;
    } catch {
      state = undefined;
    }
    this.abort.abort(); // the stats stream
    await container.remove({ force: true }).catch(() => undefined);
    this.finish(state);
  }

  private finish(state: Docker.ContainerInspectInfo['State'] | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const exitCode = state?.ExitCode ?? null;
    // An init as PID 1 exits 128+N when berth serve died of signal N, as a shell reports it.
    const signal = exitCode !== null && exitCode > 128 ? signalName(exitCode - 128) : null;
    const code = signal === null ? exitCode : null;
    const oom = state?.OOMKilled === true ? this.oomReport(this.init.limitBytes ?? 0) : undefined;
    this.exit = { code, signal, ...(oom === undefined ? {} : { oom }) };
    this.exitHandler?.(this.exit);
  }

  private oomReport(limit: number): OomReport {
    // The kernel kills at the limit: the peak it charged is at least that, whatever the last once-a-second sample saw.
    const peak = Math.max(this.peakBytes, limit);
    return { limitBytes: limit, usageBytes: peak, rssPeakBytes: this.peakBytes, cgroupPeakBytes: peak, detectedBy: 'kernel' };
  }

  private async followOomEvents(onOom: () => void): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.init.docker.getEvents({ filters: { container: [this.init.info.Id], event: ['oom'] }, abortSignal: this.abort.signal } as Docker.GetEventsOptions);
    } catch {
      return;
    }
    let seen = false;
    stream.on('data', () => {
      if (seen || this.ended) return;
      seen = true;
      onOom();
    });
    stream.on('error', () => undefined);
  }

  /** The container's memory statistics, once a second from the daemon, for the peak an OOM report gives. */
  private async followMemory(): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.init.container.stats({ stream: true, abortSignal: this.abort.signal } as unknown as { stream: true })) as NodeJS.ReadableStream;
    } catch {
      return;
    }
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const m = (JSON.parse(line) as { memory_stats?: { usage?: number; max_usage?: number } }).memory_stats;
          this.peakBytes = Math.max(this.peakBytes, m?.max_usage ?? 0, m?.usage ?? 0);
        } catch {
          // a partial line: the next chunk completes it
        }
      }
    });
    stream.on('error', () => undefined);
  }
}

function signalName(n: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name as NodeJS.Signals;
  return null;
}
