// Builds one digest into $BERTH_HOME/envs/<digest>: once at a time (in-process and across processes), logged, recorded, marked complete last.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvSnapshot } from '../../core/home.js';
import type { Logger } from '../../core/logger.js';
import { buildEnv } from './build-env.js';
import { acquireFileLock, SingleFlight } from './build-lock.js';
import type { BuildSpec } from './env-schema.js';
import type { BuildFailure, EnvironmentStore } from './env-store.js';
import { buildNode } from './node-build.js';
import { buildPython } from './python-build.js';
import { appendLog } from './run-step.js';

export interface BuilderDeps {
  /** `$BERTH_HOME/envs`. */
  readonly root: string;
  readonly store: EnvironmentStore;
  /** The environment build steps run with (PATH, HOME, pip's own settings): the control plane's, snapshotted at its edge. */
  readonly env: EnvSnapshot;
  /** `$BERTH_HOME/cache`: pip's and npm's caches (a build's temp folder is `<root>/tmp/<digest>`). */
  readonly cache: string;
  readonly now: () => number;
  readonly logger: Logger;
  readonly buildTimeoutMs: number;
  readonly pipTimeoutS: number;
  readonly npm: string;
}

/** Written last, atomically: a folder without it is an interrupted build and is built again. */
const MARKER = '.berth-built.json';

export class EnvironmentBuilder {
  private readonly flights = new SingleFlight<void>();
  private readonly stopping = new AbortController();

  constructor(private readonly d: BuilderDeps) {
    for (const sub of ['logs', 'locks', 'tmp']) mkdirSync(join(d.root, sub), { recursive: true });
  }

  dir(digest: string): string {
    return join(this.d.root, digest);
  }

  logPath(digest: string): string {
    return join(this.d.root, 'logs', `${digest}.log`);
  }

  isBuilt(digest: string): boolean {
    return existsSync(join(this.dir(digest), MARKER));
  }

  isBuilding(digest: string): boolean {
    return this.flights.get(digest) !== undefined;
  }

  /** Builds the digest unless it is built; a caller arriving while it builds waits for the same build. Never rejects: the outcome is in the store. */
  ensure(digest: string, spec: BuildSpec): Promise<void> {
    return this.flights.run(digest, () => this.build(digest, spec).catch((err: unknown) => {
      // Stopped while it waited for the lock: nothing was built, the next start resumes it.
      if (!this.stopping.signal.aborted) this.d.logger.error({ err, digest }, 'environment build crashed');
    }));
  }

  /** Stops running builds (their rows stay Building, so the next start resumes them) and waits for them to end. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.flights.all());
  }

  private async build(digest: string, spec: BuildSpec): Promise<void> {
    const { store, now } = this.d;
    const release = await acquireFileLock(join(this.d.root, 'locks', `${digest}.lock`), { signal: this.stopping.signal });
    try {
      if (this.isBuilt(digest)) {
        // Built by another process while this one waited for the lock (or the store lost track): count no build.
        const marker = JSON.parse(readFileSync(join(this.dir(digest), MARKER), 'utf8')) as { size?: number; build_ms?: number };
        if (store.build(digest)?.state !== 'Built') store.recordExisting(digest, marker.size ?? 0, marker.build_ms ?? 0);
        return;
      }
      store.buildStarted(digest);
      const started = now();
      const dir = this.dir(digest);
      const log = this.logPath(digest);
      const pipDebugLog = join(this.d.root, 'logs', `${digest}.pip-debug.log`);
      // Writes stay in the home (temp files, caches), so a build can be audited and cleaned up there.
      const tmp = join(this.d.root, 'tmp', digest);
      rmSync(dir, { recursive: true, force: true }); // what an interrupted build left
      rmSync(tmp, { recursive: true, force: true });
      rmSync(pipDebugLog, { force: true });
      mkdirSync(dir, { recursive: true });
      mkdirSync(tmp, { recursive: true });
      mkdirSync(this.d.cache, { recursive: true });
      writeFileSync(log, `# berth: building environment ${digest} at ${new Date(started).toISOString()}\n# spec: ${JSON.stringify(spec)}\n# temp: ${tmp} (removed after the build); caches: ${this.d.cache}\n`);
      this.d.logger.info({ digest, kind: spec.kind }, 'environment build started');
      const env = buildEnv(this.d.env, { tmp, cache: this.d.cache });
      const step = { log, env, cwd: dir, timeoutMs: this.d.buildTimeoutMs, signal: this.stopping.signal };
      let failed: BuildFailure | undefined;
      try {
        failed = spec.kind === 'python'
          ? await buildPython(spec, { ...step, dir, pipDebugLog, pipTimeoutS: this.d.pipTimeoutS, readText: (p) => readFileSync(p, 'utf8') })
          : await buildNode(spec, { ...step, dir, npm: this.d.npm, fetchTimeoutS: this.d.pipTimeoutS });
      } catch (err) {
        failed = { code: 'ENVIRONMENT_BUILD_FAILED', params: { reason: err instanceof Error ? err.message : String(err), tail: '' } };
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      const ms = now() - started;
      if (this.stopping.signal.aborted) {
        appendLog(log, '# build stopped: the control plane is shutting down; it resumes at the next start');
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      if (failed !== undefined) {
        appendLog(log, `# build failed after ${(ms / 1000).toFixed(1)} s: ${failed.params.reason ?? failed.code}`);
        // Nothing of a failed build is reused; the log stays for `berth env logs`.
        rmSync(dir, { recursive: true, force: true });
        store.buildFailed(digest, failed, ms);
        this.d.logger.warn({ digest, code: failed.code, ms }, failed.params.reason ?? 'environment build failed');
        return;
      }
      const size = await treeSize(dir);
      const marker = join(dir, MARKER);
      writeFileSync(`${marker}.tmp`, JSON.stringify({ digest, spec, built_at: new Date(now()).toISOString(), build_ms: Math.round(ms), size }, null, 2));
      renameSync(`${marker}.tmp`, marker);
      store.buildSucceeded(digest, size, ms);
      appendLog(log, `# built in ${(ms / 1000).toFixed(1)} s, ${size} bytes`);
      this.d.logger.info({ digest, ms, size }, 'environment built');
    } finally {
      release();
    }
  }
}

/** Bytes of the files under `dir`, symlinks counted as links (a venv's python points at the system's). */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await treeSize(path) : (await lstat(path)).size;
  }
  return total;
}
