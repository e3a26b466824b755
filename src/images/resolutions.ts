// Host-side resolution of an environment for an image: once per spec and image interpreter, kept (lock + wheelhouse) under the home.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvSnapshot } from '../core/home.js';
import { BerthError } from '../errors/catalogue.js';
import { acquireFileLock, SingleFlight } from '../control/environments/build-lock.js';
import type { ImageEnvironment, ResolvedEnv } from './plan.js';
import { resolveNode, resolvePython, type PythonTarget } from './resolve.js';
import type { ImageStore } from './store.js';
import { resolutionKey } from './tags.js';

export interface ResolutionsDeps {
  readonly store: ImageStore;
  readonly env: EnvSnapshot;
  readonly logDir: string;
  readonly lockDir: string;
  /** Where wheelhouses (or npm installs) are kept, one folder per resolution key. */
  readonly dir: string;
  readonly timeoutMs: number;
  readonly networkTimeoutS: number;
}

export class Resolutions {
  private readonly flights = new SingleFlight<ResolvedEnv>();

  constructor(private readonly d: ResolutionsDeps) {}

  /**
   * The environment's lock and wheelhouse for the image's interpreter: resolved on the host once per environment spec
   * and kept (under the home) until pruned; a failure is IMAGE_BUILD_FAILED naming the resolution step.
   */
  async resolve(environment: ImageEnvironment, target: PythonTarget, prefix: string, signal: AbortSignal, step: (s: string) => void): Promise<ResolvedEnv> {
    const build = environment.spec.build;
    const forTarget = build.kind === 'python' ? `python ${target.version} ${target.machine}` : `node ${process.version} ${process.arch}`;
    const key = resolutionKey(environment.digest, forTarget);
    const known = (): ResolvedEnv | undefined => {
      const lock = this.d.store.lock(key);
      return lock !== undefined && existsSync(lock.dir) ? { environment, lock: lock.lock, dir: lock.dir, resolutionKey: key, target } : undefined;
    };
    const hit = known();
    if (hit !== undefined) return hit;
    return this.flights.run(key, async () => {
      const release = await acquireFileLock(join(this.d.lockDir, `resolve-${key}.lock`), { signal });
      try {
        const meanwhile = known();
        if (meanwhile !== undefined) return meanwhile;
        const dir = join(this.d.dir, key);
        const log = join(this.d.logDir, `resolve-${key}.log`);
        writeFileSync(log, `# ${new Date().toISOString()} resolving ${environment.ref} on the host for ${forTarget}\n`);
        step(`resolving ${environment.ref}'s packages on the host (for ${forTarget})`);
        const started = performance.now();
        const o = { dir, log, env: this.d.env, timeoutMs: this.d.timeoutMs, signal, pipTimeoutS: this.d.networkTimeoutS, npm: 'npm' };
        const r = build.kind === 'python' ? await resolvePython(build, target, o) : await resolveNode(build, o);
        if ('step' in r) {
          const tag = `${prefix}/env:${key}`;
          const err = new BerthError('IMAGE_BUILD_FAILED', { image: tag, step: r.step, reason: r.reason, tail: r.tail });
          this.d.store.begin({ tag, kind: 'env', key, inputs: { environment: { ref: environment.ref, digest: environment.digest }, resolution: key }, logPath: log });
          this.d.store.failed(tag, { code: err.code, params: err.params }, performance.now() - started);
          throw err;
        }
        this.d.store.saveLock({ key, envDigest: environment.digest, lock: r, dir });
        return { environment, lock: r, dir, resolutionKey: key, target, resolveLog: readFileSync(log, 'utf8') };
      } finally {
        release();
      }
    });
  }
}
