// Turns a create request into the normalised environment spec, and the spec into its build digest (the cache key).
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { parseCondaFile, isValidConstraint, satisfiesConstraint } from './conda.js';
import { variablesSchema, type BuildSpec, type CreateEnvironmentRequest, type EnvSpec, type NormalPipOptions } from './env-schema.js';
import type { InterpreterProbe } from './interpreter.js';
import { emptyPipOptions, parseRequirementLines, specInvalid } from './requirements.js';

export interface NormalizeDeps {
  readonly probe: InterpreterProbe;
  /** The Node.js version JS environments are installed for (the control plane's own: replicas run on it). */
  readonly nodeVersion: string;
}

/** Checks and normalises a request; the interpreter is probed so the spec names exactly what it was built from. */
export async function normalizeEnvironment(req: CreateEnvironmentRequest, deps: NormalizeDeps): Promise<EnvSpec> {
  const files = (['requirements', 'conda', 'package_json'] as const).filter((k) => req[k] !== undefined);
  if (files.length > 1) throw specInvalid(files.join(' and '), 'give one file: a requirements.txt, a conda YAML or a package.json');
  const baseDir = req.base_dir;
  if (req.package_json !== undefined) {
    const pythonOnly = (['python', 'system_site_packages', 'pip'] as const).find((k) => req[k] !== undefined);
    if (pythonOnly !== undefined) throw specInvalid('package.json', `${pythonOnly} applies to Python environments only`);
    const build: BuildSpec = { kind: 'node', node_version: deps.nodeVersion, package_json: readPackageJson(req.package_json, baseDir) };
    return { build, variables: { ...(req.variables ?? {}) }, source: 'package.json' };
  }
  const pip = fromRequestPip(req.pip, baseDir);
  let lines: string[] = [];
  let fileName = 'requirements.txt';
  let condaPython: string | undefined;
  let variables: Record<string, string> = {};
  if (req.requirements !== undefined) lines = req.requirements.split(/\r?\n/);
  if (req.conda !== undefined) {
    fileName = 'conda.yml';
    const conda = parseCondaFile(req.conda);
    lines = conda.pipLines;
    condaPython = conda.python;
    const checked = variablesSchema.safeParse(conda.variables);
    if (!checked.success) throw specInvalid(fileName, `variables: ${checked.error.issues[0]?.path.join('.')}: ${checked.error.issues[0]?.message}`);
    variables = checked.data;
  }
  const parsed = parseRequirementLines(lines, { file: fileName, ...(baseDir === undefined ? {} : { baseDir }) }, pip);
  const requested = req.python ?? 'python3';
  const interpreter = await deps.probe(requested);
  if (condaPython !== undefined) {
    if (!isValidConstraint(condaPython)) throw specInvalid(fileName, `cannot read the python constraint "python${condaPython}"`);
    if (!satisfiesConstraint(interpreter.version, condaPython)) {
      throw specInvalid(fileName, `it asks for python${condaPython}, but ${requested} is ${interpreter.implementation} ${interpreter.version}; pass --python with a matching interpreter`);
    }
  }
  const build: BuildSpec = {
    kind: 'python',
    interpreter,
    system_site_packages: req.system_site_packages ?? false,
    requirements: parsed.requirements,
    pip: parsed.pip,
  };
  return {
    build,
    // The flags' variables win over the conda file's.
    variables: { ...variables, ...(req.variables ?? {}) },
    source: req.conda !== undefined ? 'conda' : req.requirements !== undefined ? 'requirements.txt' : 'none',
    ...(req.python === undefined ? {} : { requested_python: req.python }),
    ...(condaPython === undefined ? {} : { conda_python: condaPython }),
  };
}

/**
 * The cache key: sha256 of the canonical JSON of the build spec. Variables are left out on purpose: they only matter
 * when a replica starts, so changing one makes a new version that reuses the same built environment.
 */
export function buildDigest(build: BuildSpec): string {
  return createHash('sha256').update(canonicalJson(build)).digest('hex');
}

/** JSON with object keys sorted at every level, so equal specs hash equally whatever order they were written in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fromRequestPip(given: CreateEnvironmentRequest['pip'], baseDir: string | undefined): NormalPipOptions {
  const pip = emptyPipOptions();
  if (given === undefined) return pip;
  const abs = (p: string): string => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(p) || isAbsolute(p)) return p;
    if (baseDir === undefined) throw specInvalid('pip.find_links', `the relative path "${p}" needs base_dir`);
    return resolve(baseDir, p);
  };
  if (given.index_url !== undefined) pip.index_url = given.index_url;
  pip.extra_index_urls = [...new Set(given.extra_index_urls ?? [])].sort();
  pip.find_links = [...new Set((given.find_links ?? []).map(abs))].sort();
  pip.trusted_hosts = [...new Set(given.trusted_hosts ?? [])].sort();
  pip.no_index = given.no_index ?? false;
  return pip;
}

const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'] as const;

/** Parses a package.json; `file:` dependencies are made absolute, since the build runs in another folder. */
function readPackageJson(text: string, baseDir: string | undefined): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw specInvalid('package.json', `not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw specInvalid('package.json', 'the file is not a JSON object');
  const pkg = { ...(doc as Record<string, unknown>) };
  for (const field of DEPENDENCY_FIELDS) {
    const deps = pkg[field];
    if (deps === undefined) continue;
    if (typeof deps !== 'object' || deps === null || Array.isArray(deps)) throw specInvalid('package.json', `${field} must be an object`);
    pkg[field] = Object.fromEntries(Object.entries(deps).map(([name, range]) => {
      if (typeof range !== 'string') throw specInvalid('package.json', `${field}.${name} must be a string`);
      if (!range.startsWith('file:')) return [name, range];
      const path = range.slice('file:'.length);
      if (isAbsolute(path)) return [name, range];
      if (baseDir === undefined) throw specInvalid('package.json', `${field}.${name}: the relative path "${range}" needs base_dir`);
      return [name, `file:${resolve(baseDir, path)}`];
    }));
  }
  return pkg;
}
