// Image names: where images live (a registry prefix or the local `berth/`), and each layer's content-hash tag from its inputs.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../control/environments/spec.js';
import { DEFAULT_NAMESPACE, type RegistryTarget } from './registry-name.js';

export { DEFAULT_NAMESPACE, parseRegistry, type RegistryTarget } from './registry-name.js';

export type LayerKind = 'runtime' | 'env' | 'app';
export type ImageKind = 'base' | LayerKind;

/** `127.0.0.1:5000/berth` with a registry, `berth` without: what every repository name starts with. */
export function repositoryPrefix(registry: RegistryTarget | undefined): string {
  return registry === undefined ? DEFAULT_NAMESPACE : `${registry.host}/${registry.namespace}`;
}

export function repository(prefix: string, kind: LayerKind): string {
  return `${prefix}/${kind}`;
}

/** The inputs each layer's tag is the hash of. Parents are named by their own tag, itself a hash: the chain is content-addressed. */
export interface RuntimeInputs {
  /** The base image's id (sha256 of its config), or its registry digest when it has one. */
  readonly base: string;
  readonly baseName: string;
  readonly berthVersion: string;
  /** Digest of every runtime file (bin/, dist/, package.json, Python runner, node_modules closure). */
  readonly runtimeFiles: string;
  readonly node: { readonly version: string; readonly arch: string; readonly sha256: string };
}

export interface EnvInputs {
  readonly from: string;
  /** The environment's build digest (its spec less variables), and the version asked for (not hashed: see envHashInputs). */
  readonly environment: { readonly ref: string; readonly digest: string; readonly kind: 'python' | 'node' };
  /** sha256 of the lock (resolved names, versions and wheel hashes). */
  readonly lock: string;
  /** The image's interpreter the dependencies were resolved for. */
  readonly python?: string;
}

export interface AppInputs {
  readonly from: string;
  readonly source: string;
  /** The environment's variables, set as ENV in this (cheap) layer so changing one never reinstalls packages. */
  readonly variables: Readonly<Record<string, string>>;
  readonly environment?: string;
}

export type LayerInputs = { kind: 'runtime'; inputs: RuntimeInputs } | { kind: 'env'; inputs: EnvInputs } | { kind: 'app'; inputs: AppInputs };

const TAG_HEX = 32;

/** The part of the inputs that decides the content: names kept for people (base name, environment ref) are left out. */
export function hashedInputs(layer: LayerInputs): unknown {
  switch (layer.kind) {
    case 'runtime': {
      const { baseName: _name, ...rest } = layer.inputs;
      return rest;
    }
    case 'env': {
      const { environment, ...rest } = layer.inputs;
      return { ...rest, environment: { digest: environment.digest, kind: environment.kind } };
    }
    case 'app': {
      const { environment: _ref, ...rest } = layer.inputs;
      return rest;
    }
  }
}

/** 32 hex digits (128 bits) of sha256 over the canonical JSON of the layer's kind and hashed inputs. */
export function layerHash(layer: LayerInputs): string {
  return sha256(canonicalJson({ kind: layer.kind, inputs: hashedInputs(layer) })).slice(0, TAG_HEX);
}

export function layerTag(prefix: string, layer: LayerInputs): string {
  return `${repository(prefix, layer.kind)}:${layerHash(layer)}`;
}

/** The key a Python/JS environment's resolution (its lock and wheelhouse) is kept under: spec and target interpreter. */
export function resolutionKey(envDigest: string, target: string): string {
  return sha256(canonicalJson({ envDigest, target })).slice(0, TAG_HEX);
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `repo:tag` → [repo, tag]; the tag is after the last colon that comes after the last slash (a registry port is not a tag). */
export function splitTag(name: string): { repository: string; tag: string } {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
  return { repository: name, tag: 'latest' };
}
