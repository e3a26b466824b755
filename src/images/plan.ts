// The three layer plans of an image (runtime → env → app): inputs, tag, Dockerfile, context and labels of each.
import { readdirSync } from 'node:fs';
import { version } from '../core/version.js';
import type { EnvSpec } from '../control/environments/env-schema.js';
import { appDockerfile, envDockerfile, runtimeDockerfile } from './dockerfile.js';
import type { LayerPlan } from './layers.js';
import { lockDigest, type ImageLock, type PythonTarget } from './resolve.js';
import type { ShippedFile } from './runtime-files.js';
import { folderEntries, sourceManifest, sourceTarEntries, type SourceSnapshot } from './source.js';
import { layerHash, layerTag, type AppInputs, type EnvInputs, type RuntimeInputs } from './tags.js';
import type { TarEntry } from './tar.js';
import { explainRebuild, type ChainInputs } from './why.js';

/** The base as the chain starts from it: FROM by id, so a re-made base (same name) is a different input. */
export interface BaseInfo {
  readonly name: string;
  readonly id: string;
  readonly python: PythonTarget;
}

export interface NodeBinary {
  readonly path: string;
  readonly version: string;
  readonly arch: string;
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** A berth environment as an image input: the version's reference, build digest and spec. */
export interface ImageEnvironment {
  /** `NAME:VERSION`. */
  readonly ref: string;
  /** The environment's build digest (its spec less variables). */
  readonly digest: string;
  readonly spec: EnvSpec;
}

const labels = (kind: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({ 'berth.kind': kind, 'berth.version': version, ...extra });

export function runtimePlan(base: BaseInfo, prefix: string, files: readonly ShippedFile[], filesDigest: string, node: NodeBinary): LayerPlan & { readonly hashed: RuntimeInputs } {
  const inputs: RuntimeInputs = { base: base.id, baseName: base.name, berthVersion: version, runtimeFiles: filesDigest, node: { version: node.version, arch: node.arch, sha256: node.sha256 } };
  const layer = { kind: 'runtime', inputs } as const;
  return {
    kind: 'runtime', tag: layerTag(prefix, layer), key: layerHash(layer), parent: base.id, inputs: { ...inputs, files: files.length }, hashed: inputs,
    dockerfile: runtimeDockerfile(base.id),
    labels: labels('runtime', { 'berth.base': base.name }),
    context: (): TarEntry[] => [
      { type: 'file', path: 'node', mode: 0o755, source: node.path, size: node.size, mtimeMs: node.mtimeMs },
      { type: 'dir', path: 'berth', mode: 0o755 },
      ...files.map((f): TarEntry => ({ type: 'file', path: `berth/${f.path}`, mode: f.mode, source: f.source, size: f.size, mtimeMs: f.mtimeMs })),
    ],
  };
}

export interface ResolvedEnv {
  readonly environment: ImageEnvironment;
  readonly lock: ImageLock;
  /** The folder of wheels (with the lock file) or of the npm install. */
  readonly dir: string;
  readonly resolutionKey: string;
  readonly target: PythonTarget;
  /** The host-side resolution's output, when it ran for this call. */
  readonly resolveLog?: string;
}

export function envPlan(runtime: LayerPlan, prefix: string, r: ResolvedEnv): LayerPlan & { readonly hashed: EnvInputs } {
  const build = r.environment.spec.build;
  const inputs: EnvInputs = {
    from: runtime.tag,
    environment: { ref: r.environment.ref, digest: r.environment.digest, kind: build.kind },
    lock: lockDigest(r.lock),
    ...(build.kind === 'python' ? { python: r.target.version } : {}),
  };
  const layer = { kind: 'env', inputs } as const;
  const dockerfile = build.kind === 'node'
    ? envDockerfile(runtime.tag, { kind: 'node' })
    : envDockerfile(runtime.tag, { kind: 'python', python: r.target.python, systemSitePackages: build.system_site_packages, install: r.lock.packages.length > 0 });
  return {
    kind: 'env', tag: layerTag(prefix, layer), key: layerHash(layer), parent: runtime, lock: r.lock, hashed: inputs,
    inputs: { ...inputs, resolution: r.resolutionKey, packages: r.lock.packages.length },
    dockerfile,
    labels: labels('env', { 'berth.environment': r.environment.ref }),
    context: () => (build.kind === 'node' ? folderEntries(r.dir, 'env') : wheelEntries(r.dir)),
    ...(r.resolveLog === undefined ? {} : { logPreface: () => `# resolved on the host:\n${r.resolveLog}\n` }),
  };
}

function wheelEntries(dir: string): TarEntry[] {
  // Only the wheels and the lock: pip's logs beside them are the host's business.
  const keep = new Set(readdirSync(dir).filter((f) => f.endsWith('.whl') || f.endsWith('.txt')));
  return folderEntries(dir, 'wheels').filter((e) => e.path === 'wheels' || keep.has(e.path.slice('wheels/'.length)));
}

export interface AppPlanInput {
  readonly parent: LayerPlan;
  readonly prefix: string;
  readonly source: SourceSnapshot;
  readonly environment?: ImageEnvironment;
  readonly runtimeInputs: RuntimeInputs;
  readonly env?: { readonly inputs: EnvInputs; readonly lock: ImageLock };
  /** The chain of the service's previous image, to explain a build against. */
  readonly previous?: ChainInputs;
  readonly service?: string;
}

export function appPlan(a: AppPlanInput): LayerPlan & { readonly chain: ChainInputs } {
  const variables = a.environment?.spec.variables ?? {};
  const inputs: AppInputs = { from: a.parent.tag, source: a.source.digest, variables, ...(a.environment === undefined ? {} : { environment: a.environment.ref }) };
  const layer = { kind: 'app', inputs } as const;
  const manifest = sourceManifest(a.source);
  const chain: ChainInputs = {
    runtime: a.runtimeInputs, app: inputs,
    ...(a.env === undefined ? {} : { env: a.env.inputs, packages: Object.fromEntries(a.env.lock.packages.map((p) => [p.name, p.version])) }),
    ...(manifest === undefined ? {} : { manifest }),
  };
  return {
    kind: 'app', tag: layerTag(a.prefix, layer), key: layerHash(layer), parent: a.parent, chain,
    inputs: { ...inputs, source_bytes: a.source.bytes, source_files: a.source.entries.length, chain },
    dockerfile: appDockerfile(a.parent.tag, variables),
    labels: labels('app', { 'berth.source': a.source.digest, ...(a.environment === undefined ? {} : { 'berth.environment': a.environment.ref }) }),
    context: () => [{ type: 'dir', path: 'app', mode: 0o755 }, ...sourceTarEntries(a.source, 'app')],
    why: () => explainRebuild(a.previous, chain, a.service),
  };
}
