// Copies each pod's `berth serve` output from the pod log API into the replica's log files, so `service logs` (--init, --previous, --follow) reads them as for local replicas and keeps them after the pod is gone.
import { createWriteStream, statSync } from 'node:fs';
import { closeFd, openRunLog, saveInitLog } from '../local/replica-logs.js';
import type { ReplicaLogPaths } from '../types.js';
import type { KubeApi } from './kube-api.js';
import { SERVE_CONTAINER } from './manifests.js';

interface Followed {
  /** The container instance being copied: its start time. */
  instance: string;
  abort?: AbortController;
  initSaved: boolean;
}

export class LogMirror {
  private readonly followed = new Map<string, Followed>();

  constructor(private readonly api: KubeApi) {}

  /**
   * Called whenever a pod changes: a container instance that started (or one seen for the first time, after a restart
   * of the control plane) is followed; the run before it moves to the previous log, as for local replicas.
   */
  observe(pod: string, logs: ReplicaLogPaths, runningSince: string | undefined, ready: boolean): void {
    const f = this.followed.get(pod);
    if (runningSince !== undefined && f?.instance !== runningSince) {
      const adopted = f === undefined && size(logs.current) > 0;
      f?.abort?.abort();
      const next: Followed = { instance: runningSince, initSaved: false };
      this.followed.set(pod, next);
      void this.follow(pod, logs, next, adopted);
    }
    const now = this.followed.get(pod);
    if (now !== undefined && ready && !now.initSaved) {
      now.initSaved = true;
      saveInitLog(logs, size(logs.current));
    }
  }

  /** The run ended before it was ready: all of its output is the start-up log. */
  endedBeforeReady(pod: string, logs: ReplicaLogPaths): void {
    const f = this.followed.get(pod);
    if (f === undefined || f.initSaved) return;
    f.initSaved = true;
    // Let the last lines of a dying container arrive first.
    setTimeout(() => saveInitLog(logs), 500).unref();
  }

  forget(pod: string): void {
    this.followed.get(pod)?.abort?.abort();
    this.followed.delete(pod);
  }

  close(): void {
    for (const f of this.followed.values()) f.abort?.abort();
    this.followed.clear();
  }

  private async follow(pod: string, logs: ReplicaLogPaths, f: Followed, adopted: boolean): Promise<void> {
    // A new run starts a new log (the one before becomes --previous); an adopted run carries on where the file ends.
    let sinceSeconds: number | undefined;
    if (adopted) sinceSeconds = Math.max(1, Math.ceil((Date.now() - mtime(logs.current)) / 1000));
    else closeFd(openRunLog(logs));
    const out = createWriteStream(logs.current, { flags: 'a' });
    out.on('error', () => undefined);
    try {
      f.abort = await this.api.streamLog(pod, SERVE_CONTAINER, out, { follow: true, ...(sinceSeconds === undefined ? {} : { sinceSeconds }) });
    } catch {
      out.end();
    }
  }
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}
