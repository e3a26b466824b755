// The images part: ensure() turns an environment and a source folder into an image replicas run (reused, pulled or built), plus housekeeping.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvSnapshot } from '../core/home.js';
import type { Logger } from '../core/logger.js';
import { packageRoot } from '../core/paths.js';
import { BerthError } from '../errors/catalogue.js';
import type { Db } from '../control/store/db.js';
import { BASE_IMAGE, baseImagePaths, makeBaseImage, probePython, type BaseBuildResult } from './base-image.js';
import type { DockerConnection } from './docker.js';
import { APP_ROOT, BERTH_BIN_IN_IMAGE, NODE_IN_IMAGE, NODE_MODULES_IN_IMAGE, VENV, VENV_PYTHON } from './dockerfile.js';
import { inspectImage, pullImage } from './engine.js';
import { LayerMaker } from './layers.js';
import { appPlan, envPlan, runtimePlan, type BaseInfo, type ImageEnvironment, type NodeBinary } from './plan.js';
import { pruneImages } from './prune.js';
import { dockerCredentials, RegistryClient, type EngineAuth } from './registry.js';
import type { PythonTarget } from './resolve.js';
import { Resolutions } from './resolutions.js';
import { FileHasher, runtimeFiles, statFile } from './runtime-files.js';
import type { ImageView, PruneReport } from './schema.js';
import { snapshotSource } from './source.js';
import { ImageStore, type ImageRecord, type Outcome } from './store.js';
import { parseRegistry, repositoryPrefix, type LayerKind, type RegistryTarget } from './tags.js';
import { toView } from './view.js';
import type { ChainInputs } from './why.js';

export interface ImagesDeps {
  readonly docker: DockerConnection;
  readonly db: Db;
  /** $BERTH_HOME: logs, locks and wheelhouses go under images/. */
  readonly home: string;
  /** HOST:PORT[/NAMESPACE]: images are looked up there before building, pushed after, and run by digest. */
  readonly registry?: string;
  /** A base with python3 instead of berth/base:bookworm. */
  readonly baseImage?: string;
  readonly logger: Logger;
  readonly clock?: { now(): number };
  /** The environment host-side steps run with (PATH, HOME, pip's and npm's settings, DOCKER_CONFIG). */
  readonly env: EnvSnapshot;
  /** Tags or refs that service generations run: prune keeps them (and the layers under them). */
  readonly inUse?: () => ReadonlySet<string>;
  readonly packageRoot?: string;
  readonly nodeBinary?: string;
  /** A whole ensure()'s limit; default 30 min. */
  readonly buildTimeoutMs?: number;
  /** pip's / npm's per-request timeout on the host; default 10 s. */
  readonly networkTimeoutS?: number;
  /** Build without the engine's build cache (the benchmark's cold builds); berth's own tags still decide what is built. */
  readonly noBuildCache?: boolean;
}

export interface ImageInputs {
  /** Which service asks: its previous image explains a rebuild, and it is recorded as its latest. */
  readonly service?: string;
  /** The resolved berth environment; none: the base's own python3 and no packages. */
  readonly environment?: ImageEnvironment;
  /** The snapshotted source folder, copied to /var/azureml-app. */
  readonly sourceDir: string;
  /** Overrides of the plane's settings, for one build. */
  readonly baseImage?: string;
  readonly registry?: string;
}

export interface BuiltImage {
  /** The app image's content-hash tag, e.g. 127.0.0.1:5000/berth/app:<hash> (berth/app:<hash> with no registry). */
  readonly tag: string;
  /** What to run: repository@sha256:… when in a registry, else the local image id. */
  readonly ref: string;
  readonly digest?: string;
  /** Paths inside the image: run `node berthBin serve --python python ...`. */
  readonly node: string;
  readonly berthBin: string;
  readonly python: string;
  /** Variables the container must get: the environment's, AML_APP_ROOT, VIRTUAL_ENV or NODE_PATH. */
  readonly env: Readonly<Record<string, string>>;
  readonly appRoot: '/var/azureml-app';
  readonly outcome: Outcome;
  readonly layersBuilt: readonly LayerKind[];
  /** When built: which input changed against the service's previous image. */
  readonly why?: string;
}

interface Registry {
  readonly target: RegistryTarget;
  readonly client: RegistryClient;
}

export class Images {
  private readonly store: ImageStore;
  private readonly layers: LayerMaker;
  private readonly hasher = new FileHasher();
  private readonly resolutions: Resolutions;
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private readonly dir: { logs: string; locks: string; wheels: string; work: string };
  private readonly root: string;

  constructor(private readonly d: ImagesDeps) {
    const now = d.clock === undefined ? () => new Date() : () => new Date(d.clock!.now());
    this.store = new ImageStore(d.db, now);
    const base = join(d.home, 'images');
    this.dir = { logs: join(base, 'logs'), locks: join(base, 'locks'), wheels: join(base, 'resolved'), work: join(base, 'work') };
    for (const dir of Object.values(this.dir)) mkdirSync(dir, { recursive: true });
    this.layers = new LayerMaker({ docker: d.docker, store: this.store, logDir: this.dir.logs, lockDir: this.dir.locks, logger: d.logger, ...(d.noBuildCache === true ? { noBuildCache: true } : {}) });
    this.root = d.packageRoot ?? packageRoot;
    this.resolutions = new Resolutions({ store: this.store, env: d.env, logDir: this.dir.logs, lockDir: this.dir.locks, dir: this.dir.wheels, timeoutMs: d.buildTimeoutMs ?? 30 * 60_000, networkTimeoutS: d.networkTimeoutS ?? 10 });
    // Checked at start, so a bad plane setting fails `berth up`, not the first deployment.
    if (d.registry !== undefined) parseRegistry(d.registry);
  }

  /** Resolves once the Docker engine answers; throws DOCKER_UNAVAILABLE. */
  async ready(): Promise<void> {
    await this.d.docker.get();
  }

  /** At start: rows a stopped process left building are failed (their images, if any, are found again by tag). */
  recover(): number {
    return this.store.interrupted();
  }

  /** The image for these inputs, present locally (and in the registry when there is one). Throws coded errors. */
  ensure(inputs: ImageInputs, signal: AbortSignal, onStep: (step: string) => void = () => undefined): Promise<BuiltImage> {
    // Kept until settled: close() waits for them, so no build writes to the store after it is closed.
    const p = this.make(inputs, signal, onStep);
    this.running.add(p);
    void p.catch(() => undefined).finally(() => this.running.delete(p));
    return p;
  }

  private async make(inputs: ImageInputs, signal: AbortSignal, onStep: (step: string) => void): Promise<BuiltImage> {
    const sig = AbortSignal.any([signal, this.stopping.signal, AbortSignal.timeout(this.d.buildTimeoutMs ?? 30 * 60_000)]);
    const step = (text: string): void => {
      this.d.logger.info({ service: inputs.service, step: text }, 'image step');
      onStep(text);
    };
    await this.d.docker.get();
    const registry = this.registry(inputs.registry);
    const prefix = repositoryPrefix(registry?.target);
    const base = await this.base(inputs.baseImage ?? this.d.baseImage ?? BASE_IMAGE, sig, step);
    const files = runtimeFiles(this.root);
    const runtime = runtimePlan(base, prefix, files, await this.hasher.digest(files), await this.nodeBinary());
    const environment = inputs.environment;
    const resolved = environment === undefined ? undefined : await this.resolutions.resolve(environment, base.python, prefix, sig, step);
    const env = resolved === undefined ? undefined : envPlan(runtime, prefix, resolved);
    const source = await snapshotSource(inputs.sourceDir, this.hasher);
    const previous = inputs.service === undefined ? undefined : (this.store.serviceImage(inputs.service)?.inputs.chain as ChainInputs | undefined);
    const app = appPlan({
      parent: env ?? runtime, prefix, source, runtimeInputs: runtime.hashed,
      ...(environment === undefined ? {} : { environment }), ...(env === undefined || resolved === undefined ? {} : { env: { inputs: env.hashed, lock: resolved.lock } }),
      ...(previous === undefined ? {} : { previous }), ...(inputs.service === undefined ? {} : { service: inputs.service }),
    });
    const result = await this.layers.ensure(app, { ...(registry === undefined ? {} : { registry }), ...(inputs.service === undefined ? {} : { service: inputs.service }), signal: sig, step });
    if (inputs.service !== undefined) this.store.setServiceImage(inputs.service, app.tag);
    this.store.touch([app.tag, ...(env === undefined ? [] : [env.tag]), runtime.tag, base.name]);
    const kind = environment?.spec.build.kind;
    return {
      tag: app.tag, ref: result.ref, ...(result.digest === undefined ? {} : { digest: result.digest }),
      node: NODE_IN_IMAGE, berthBin: BERTH_BIN_IN_IMAGE, python: kind === 'python' ? VENV_PYTHON : base.python.python,
      env: { AML_APP_ROOT: APP_ROOT, ...(environment?.spec.variables ?? {}), ...(kind === 'python' ? { VIRTUAL_ENV: VENV } : kind === 'node' ? { NODE_PATH: NODE_MODULES_IN_IMAGE } : {}) },
      appRoot: APP_ROOT, outcome: result.outcome, layersBuilt: result.built, ...(result.why === undefined ? {} : { why: result.why }),
    };
  }

  /** berth/base:bookworm, made with debootstrap unless present (or `force`). */
  buildBase(o: { force: boolean; mirror?: string }, signal: AbortSignal, onStep?: (step: string) => void): Promise<BaseBuildResult> {
    return makeBaseImage(this.d.docker, this.d.home, { ...o, env: this.d.env, signal, ...(onStep === undefined ? {} : { onStep }) });
  }

  async list(): Promise<ImageView[]> {
    const present = await this.presentTags();
    return this.store.list().map((r) => toView(r, present.has(r.tag)));
  }

  async show(tag: string): Promise<ImageView> {
    const present = await this.presentTags();
    const r = this.find(tag);
    return toView(r, present.has(r.tag));
  }

  /** The build log of an image (its last attempt). */
  logPath(tag: string): { tag: string; path: string } {
    const r = this.find(tag);
    return { tag: r.tag, path: r.logPath };
  }

  /** Removes images no service generation uses; keeps the base, the layers under kept images, and builds running now. */
  async prune(): Promise<PruneReport> {
    await this.d.docker.get();
    const inUse = new Set([...(this.d.inUse?.() ?? []), ...this.store.servicesLatest()]);
    return pruneImages({ docker: this.d.docker, store: this.store, inUse, busy: this.layers.busy(), logger: this.d.logger });
  }

  /** Stops running builds (the engine cancels a build whose connection closes) and waits for them to end. */
  async close(): Promise<void> {
    this.stopping.abort(new BerthError('IMAGE_BUILD_FAILED', { image: 'in progress', step: 'the build', reason: 'the control plane is stopping', tail: '' }));
    await Promise.allSettled([...this.running]);
  }

  /** A tag as given, or the unique image whose tag's hash starts with the text (at least 6 characters). */
  private find(text: string): ImageRecord {
    const exact = this.store.get(text);
    if (exact !== undefined) return exact;
    const hits = text.length >= 6 ? this.store.list().filter((r) => r.tag.split(':').at(-1)!.startsWith(text) || r.tag.endsWith(text)) : [];
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new BerthError('INVALID_ARGUMENT', { detail: `"${text}" matches ${hits.length} images: ${hits.slice(0, 3).map((h) => h.tag).join(', ')}…; give more of the tag` });
    throw new BerthError('IMAGE_NOT_FOUND', { image: text });
  }

  private async presentTags(): Promise<Set<string>> {
    const docker = await this.d.docker.get();
    try {
      return new Set((await docker.listImages()).flatMap((i) => i.RepoTags ?? []));
    } catch (err) {
      throw this.d.docker.wrap(err);
    }
  }

  private registry(override: string | undefined): Registry | undefined {
    const text = override ?? this.d.registry;
    if (text === undefined) return undefined;
    const target = parseRegistry(text);
    return { target, client: new RegistryClient(target, dockerCredentials(this.d.env, target.host)) };
  }

  /** The base, present (built or pulled when missing), with its python3 asked once per image id and kept in its row. */
  private async base(name: string, signal: AbortSignal, step: (s: string) => void): Promise<BaseInfo> {
    let image = await inspectImage(this.d.docker, name);
    if (image === undefined) {
      if (name === BASE_IMAGE) {
        step(`building berth's base image ${BASE_IMAGE} (debootstrap, about a minute, once)`);
        await this.buildBase({ force: false }, signal, step);
      } else {
        step(`pulling the base image ${name}`);
        await pullImage(this.d.docker, name, this.authFor(name), join(this.dir.logs, 'base-pull.log'), signal);
      }
      image = await inspectImage(this.d.docker, name);
      if (image === undefined) throw new BerthError('IMAGE_PULL_FAILED', { image: name, detail: 'the engine has no such image after making it' });
    }
    const row = this.store.get(name);
    const cached = row?.imageId === image.id ? (row.inputs.python as PythonTarget | undefined) : undefined;
    if (cached !== undefined) return { name, id: image.id, python: cached };
    const python = await probePython(this.d.docker, image.id);
    this.store.record({ tag: name, kind: 'base', key: image.id, inputs: { python }, logPath: baseImagePaths(this.d.home).log, imageId: image.id, size: image.size, ref: image.id, outcome: 'reused-local' });
    return { name, id: image.id, python };
  }

  /** Credentials for a base image's registry (`host[:port]/…`), from the Docker config. */
  private authFor(name: string): EngineAuth | undefined {
    const first = name.split('/')[0]!;
    if (!name.includes('/') || !/[.:]|^localhost$/.test(first)) return undefined;
    const creds = dockerCredentials(this.d.env, first);
    return creds === undefined ? undefined : { ...creds, serveraddress: first };
  }

  private async nodeBinary(): Promise<NodeBinary> {
    const path = this.d.nodeBinary ?? process.execPath;
    const st = statFile(path);
    return { path, version: process.version, arch: process.arch, sha256: await this.hasher.sha256(st), size: st.size, mtimeMs: st.mtimeMs };
  }
}
