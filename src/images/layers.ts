// Makes one layer image present: reused when the engine has it, pulled when the registry has it, else built (parent first) and pushed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { BerthError, isBerthError } from '../errors/catalogue.js';
import { acquireFileLock, SingleFlight } from '../control/environments/build-lock.js';
import type { DockerConnection } from './docker.js';
import { buildImage, inspectImage, pullImage, pushImage, type LocalImage } from './engine.js';
import type { RegistryClient } from './registry.js';
import type { ImageLock } from './resolve.js';
import type { ImageStore, Outcome } from './store.js';
import { splitTag, type LayerKind } from './tags.js';
import type { TarEntry } from './tar.js';

/** Everything needed to make one layer, its parent included; nothing is computed twice when the layer is already there. */
export interface LayerPlan {
  readonly kind: LayerKind;
  readonly tag: string;
  readonly key: string;
  /** The image this one is built FROM: a plan, or a name that must already be present (the base). */
  readonly parent: LayerPlan | string;
  /** Stored in the row: the hashed inputs and whatever explains them. */
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly lock?: ImageLock;
  readonly dockerfile: string;
  readonly context: () => TarEntry[] | Promise<TarEntry[]>;
  readonly labels: Readonly<Record<string, string>>;
  /** When built: why (the app layer's explanation). */
  readonly why?: () => string;
  /** Text put at the top of the build log (the host-side resolution's output). */
  readonly logPreface?: () => string;
}

export interface LayerResult {
  readonly tag: string;
  readonly imageId: string;
  readonly digest?: string;
  readonly ref: string;
  readonly outcome: Outcome;
  /** Layers built for this result, parents first. */
  readonly built: readonly LayerKind[];
  readonly why?: string;
}

export interface Registryish {
  readonly client: RegistryClient;
}

export interface LayerContext {
  readonly registry?: Registryish;
  readonly service?: string;
  readonly signal: AbortSignal;
  readonly step: (text: string) => void;
}

export interface LayerMakerDeps {
  readonly docker: DockerConnection;
  readonly store: ImageStore;
  readonly logDir: string;
  readonly lockDir: string;
  readonly logger: Logger;
  readonly noBuildCache?: boolean;
}

export const logFileFor = (logDir: string, tag: string): string => {
  const { repository, tag: hash } = splitTag(tag);
  return join(logDir, `${repository.split('/').at(-1)}-${hash}.log`);
};

export class LayerMaker {
  private readonly flights = new SingleFlight<LayerResult>();
  private readonly making = new Set<string>();

  constructor(private readonly d: LayerMakerDeps) {
    mkdirSync(d.logDir, { recursive: true });
    mkdirSync(d.lockDir, { recursive: true });
  }

  /** Tags being made right now (prune keeps them). */
  busy(): Set<string> {
    return new Set(this.making);
  }

  /** The layer, present locally; concurrent callers for one tag share one attempt. */
  ensure(plan: LayerPlan, ctx: LayerContext): Promise<LayerResult> {
    return this.flights.run(plan.tag, async () => {
      this.making.add(plan.tag);
      try {
        return await this.make(plan, ctx);
      } finally {
        this.making.delete(plan.tag);
      }
    });
  }

  private async make(plan: LayerPlan, ctx: LayerContext): Promise<LayerResult> {
    const here = await inspectImage(this.d.docker, plan.tag);
    if (here !== undefined) return this.reuse(plan, here, ctx);
    const remote = await this.remoteDigest(plan, ctx);
    if (remote !== undefined) return this.pull(plan, remote, ctx);
    const release = await acquireFileLock(join(this.d.lockDir, `${splitTag(plan.tag).tag}.lock`), { signal: ctx.signal });
    try {
      // Another process may have made it while this one waited for the lock.
      const meanwhile = await inspectImage(this.d.docker, plan.tag);
      if (meanwhile !== undefined) return this.reuse(plan, meanwhile, ctx);
      return await this.build(plan, ctx);
    } finally {
      release();
    }
  }

  private async reuse(plan: LayerPlan, image: LocalImage, ctx: LayerContext): Promise<LayerResult> {
    const row = this.d.store.get(plan.tag);
    let digest = ctx.registry === undefined ? undefined : pushedDigest(plan.tag, image);
    if (ctx.registry !== undefined && digest === undefined) {
      // Made here before the registry was set, or its push failed: push it now, so replicas can run it by digest.
      ctx.step(`pushing ${plan.tag} (present here, not yet in the registry)`);
      digest = await pushImage(this.d.docker, plan.tag, ctx.registry.client.engineAuth(), row?.logPath ?? logFileFor(this.d.logDir, plan.tag), ctx.signal);
    }
    const ref = refOf(plan.tag, image, digest);
    if (row === undefined || row.state !== 'built') {
      this.d.store.record({ tag: plan.tag, kind: plan.kind, key: plan.key, inputs: plan.inputs, logPath: logFileFor(this.d.logDir, plan.tag), ...parentOf(plan), imageId: image.id, size: image.size, ref, outcome: 'reused-local', ...(digest === undefined ? {} : { digest }) });
    } else if (digest !== undefined && row.digest !== digest) {
      this.d.store.setDigest(plan.tag, digest, ref);
    }
    return { tag: plan.tag, imageId: image.id, ref, outcome: 'reused-local', built: [], ...(digest === undefined ? {} : { digest }) };
  }

  private async remoteDigest(plan: LayerPlan, ctx: LayerContext): Promise<string | undefined> {
    if (ctx.registry === undefined) return undefined;
    const { repository, tag } = splitTag(plan.tag);
    const path = repository.slice(ctx.registry.client.target.host.length + 1);
    return ctx.registry.client.manifestDigest(path, tag);
  }

  private async pull(plan: LayerPlan, digest: string, ctx: LayerContext): Promise<LayerResult> {
    const log = logFileFor(this.d.logDir, plan.tag);
    ctx.step(`pulling ${plan.tag} (the registry has it)`);
    const started = performance.now();
    this.d.store.begin({ tag: plan.tag, kind: plan.kind, key: plan.key, inputs: plan.inputs, logPath: log, ...parentOf(plan), ...(ctx.service === undefined ? {} : { service: ctx.service }), ...(plan.lock === undefined ? {} : { lock: plan.lock }) });
    try {
      await pullImage(this.d.docker, plan.tag, ctx.registry?.client.engineAuth(), log, ctx.signal);
      const image = await inspectImage(this.d.docker, plan.tag);
      if (image === undefined) throw new BerthError('IMAGE_PULL_FAILED', { image: plan.tag, detail: 'the pull ended without error, but the engine has no such image' });
      const ref = refOf(plan.tag, image, digest);
      this.d.store.done(plan.tag, { imageId: image.id, size: image.size, outcome: 'pulled', digest, ref, buildMs: performance.now() - started });
      return { tag: plan.tag, imageId: image.id, digest, ref, outcome: 'pulled', built: [] };
    } catch (err) {
      this.fail(plan.tag, err, started);
      throw err;
    }
  }

  private async build(plan: LayerPlan, ctx: LayerContext): Promise<LayerResult> {
    const parent = typeof plan.parent === 'string' ? undefined : await this.ensure(plan.parent, ctx);
    const log = logFileFor(this.d.logDir, plan.tag);
    const why = plan.why?.();
    const started = performance.now();
    this.d.store.begin({ tag: plan.tag, kind: plan.kind, key: plan.key, inputs: plan.inputs, logPath: log, ...parentOf(plan), ...(ctx.service === undefined ? {} : { service: ctx.service }), ...(plan.lock === undefined ? {} : { lock: plan.lock }) });
    writeFileSync(log, `# ${new Date().toISOString()} building ${plan.tag}${why === undefined ? '' : ` (${why})`}\n${plan.logPreface?.() ?? ''}`);
    ctx.step(`building the ${plan.kind} layer ${plan.tag}${why === undefined ? '' : `: ${why}`}`);
    try {
      const image = await buildImage(this.d.docker, { tag: plan.tag, dockerfile: plan.dockerfile, context: await plan.context(), labels: plan.labels, log, signal: ctx.signal, noCache: this.d.noBuildCache === true });
      const buildMs = performance.now() - started;
      this.d.logger.info({ tag: plan.tag, kind: plan.kind, build_ms: Math.round(buildMs), service: ctx.service }, 'image layer built');
      let digest: string | undefined;
      if (ctx.registry !== undefined) {
        ctx.step(`pushing ${plan.tag}`);
        digest = await pushImage(this.d.docker, plan.tag, ctx.registry.client.engineAuth(), log, ctx.signal);
      }
      const ref = refOf(plan.tag, image, digest);
      this.d.store.done(plan.tag, { imageId: image.id, size: image.size, outcome: 'built', ref, buildMs, ...(digest === undefined ? {} : { digest }), ...(why === undefined ? {} : { why }) });
      return { tag: plan.tag, imageId: image.id, ref, outcome: 'built', built: [...(parent?.built ?? []), plan.kind], ...(digest === undefined ? {} : { digest }), ...(why === undefined ? {} : { why }) };
    } catch (err) {
      this.fail(plan.tag, err, started);
      throw err;
    }
  }

  private fail(tag: string, err: unknown, started: number): void {
    const failure = isBerthError(err) ? { code: err.code, params: err.params } : { code: 'INTERNAL', params: { detail: err instanceof Error ? err.message : String(err) } };
    this.d.store.failed(tag, failure, performance.now() - started);
  }
}

function parentOf(plan: LayerPlan): { parent: string } {
  return { parent: typeof plan.parent === 'string' ? plan.parent : plan.parent.tag };
}

/** The digest under which this tag's repository has the image, from the engine's RepoDigests (set by a push or pull). */
function pushedDigest(tag: string, image: LocalImage): string | undefined {
  const { repository } = splitTag(tag);
  return image.repoDigests.find((d) => d.startsWith(`${repository}@`))?.slice(repository.length + 1);
}

/** Run by digest when the image is in a registry; else by the local image id. */
function refOf(tag: string, image: LocalImage, digest: string | undefined): string {
  return digest === undefined ? image.id : `${splitTag(tag).repository}@${digest}`;
}
