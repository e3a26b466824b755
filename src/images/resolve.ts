// Resolves an environment's dependencies on the host with the user's own pip / npm configuration, into a folder the build copies in, and its lock.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../control/environments/spec.js';
import type { BuildSpec } from '../control/environments/env-schema.js';
import { buildNode } from '../control/environments/node-build.js';
import { classifyPipFailure, failure, pipArgs, tail } from '../control/environments/python-build.js';
import { runStep, type StepOptions } from '../control/environments/run-step.js';
import { LOCK_FILE } from './dockerfile.js';
import { hashFile } from './runtime-files.js';
import { sha256 } from './tags.js';

type PythonSpec = Extract<BuildSpec, { kind: 'python' }>;
type NodeSpec = Extract<BuildSpec, { kind: 'node' }>;

/** What the image's interpreter is: dependencies are resolved for it, not for the host's. */
export interface PythonTarget {
  readonly python: string;
  /** e.g. 3.11.2 */
  readonly version: string;
  /** `uname -m` inside the image, e.g. x86_64 */
  readonly machine: string;
}

export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  /** Python: the wheel's file name and sha256. */
  readonly file?: string;
  readonly sha256?: string;
  /** npm: the integrity npm recorded. */
  readonly integrity?: string;
}

/** The image's lock: exactly what was resolved and installed. */
export interface ImageLock {
  readonly kind: 'python' | 'node';
  readonly packages: readonly LockedPackage[];
}

export interface ResolveFailure {
  /** Which step, for IMAGE_BUILD_FAILED. */
  readonly step: string;
  readonly reason: string;
  readonly tail: string;
}

export interface ResolveOptions extends Omit<StepOptions, 'cwd'> {
  /** The folder the wheels (or node_modules) are put in; emptied first. */
  readonly dir: string;
  readonly pipTimeoutS: number;
  readonly npm: string;
}

export function lockDigest(lock: ImageLock): string {
  return sha256(canonicalJson(lock));
}

const normalName = (n: string): string => n.toLowerCase().replace(/[-_.]+/g, '-');

/**
 * Python: `pip wheel` when the host's interpreter has the image's version (sdists are built into wheels here), else
 * `pip download` of binary wheels for the image's version and platform. The lock lists every wheel with its sha256, and
 * is written beside them as the requirements file the build installs with --require-hashes.
 */
export async function resolvePython(spec: PythonSpec, target: PythonTarget, o: ResolveOptions): Promise<ImageLock | ResolveFailure> {
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  if (spec.requirements.length > 0) {
    const pip = await hostPip(spec.interpreter.executable, { ...o, cwd: o.dir });
    if ('step' in pip) return pip;
    const requirements = join(o.dir, '..', `${baseName(o.dir)}.requirements.txt`);
    writeFileSync(requirements, spec.requirements.join('\n') + '\n');
    const debugLog = join(o.dir, '..', `${baseName(o.dir)}.pip-debug.log`);
    const sameVersion = minor(spec.interpreter.version) === minor(target.version);
    const args = [...pip.argv.slice(1), ...pipCommand(sameVersion, target, o.dir), ...pipArgs(spec, { pipTimeoutS: o.pipTimeoutS, pipDebugLog: debugLog }), '-r', requirements];
    const step = await runStep(pip.argv[0]!, args, { ...o, cwd: o.dir, env: { ...o.env, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUNBUFFERED: '1' } });
    const what = `resolving the environment's packages on the host (pip ${sameVersion ? 'wheel' : 'download'})`;
    if (step.code !== 0 || step.timedOut || step.aborted) {
      if (step.timedOut || step.aborted || step.code === null) return asResolveFailure(what, failure(step, `pip ${sameVersion ? 'wheel' : 'download'}`).params);
      let debug = '';
      try {
        debug = readFileSync(debugLog, 'utf8');
      } catch {
        // no debug log: pip did not get far
      }
      const classified = classifyPipFailure(step, debug);
      const reason = classified.params.reason!.replace(/^pip install/, `pip ${sameVersion ? 'wheel' : 'download'}`);
      const unreachable = classified.code === 'PACKAGE_INDEX_UNREACHABLE' ? ` (the package index is unreachable: ${classified.params.indexes})` : '';
      return { step: what, reason: `${reason}${unreachable}`, tail: classified.params.tail ?? '' };
    }
  }
  const packages: LockedPackage[] = [];
  for (const file of readdirSync(o.dir).filter((f) => f.endsWith('.whl')).sort()) {
    const [name, version] = file.split('-');
    packages.push({ name: normalName(name ?? file), version: version ?? '', file, sha256: await hashFile(join(o.dir, file)) });
  }
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  writeFileSync(join(o.dir, LOCK_FILE), packages.map((p) => `${p.name}==${p.version} --hash=sha256:${p.sha256}`).join('\n') + '\n');
  return { kind: 'python', packages };
}

/** pip's subcommand and target flags: the host resolves for the image's Python version and machine. */
export function pipCommand(sameVersion: boolean, target: PythonTarget, dir: string): string[] {
  if (sameVersion) return ['wheel', '--wheel-dir', dir];
  const [major, minorVersion] = target.version.split('.');
  const abi = `cp${major}${minorVersion}`;
  const platforms = ['manylinux_2_36', 'manylinux_2_28', 'manylinux2014', 'manylinux2010', 'manylinux1', 'linux'].map((p) => `${p}_${target.machine}`);
  return ['download', '--dest', dir, '--only-binary=:all:', '--python-version', `${major}.${minorVersion}`, '--implementation', 'cp',
    '--abi', abi, '--abi', 'abi3', '--abi', 'none', ...platforms.flatMap((p) => ['--platform', p])];
}

/** The spec's interpreter's pip, else python3 -m pip from the PATH (Debian's python3 may lack pip). */
async function hostPip(python: string, o: StepOptions): Promise<{ argv: string[] } | ResolveFailure> {
  for (const candidate of [python, 'python3']) {
    const probe = await runStep(candidate, ['-m', 'pip', '--version'], o);
    if (probe.code === 0) return { argv: [candidate, '-m', 'pip'] };
    if (probe.aborted || probe.timedOut) break;
  }
  return { step: 'looking for pip on the host', reason: `neither ${python} -m pip nor python3 -m pip runs`, tail: '' };
}

/** JS: `npm install --omit=dev` on the host into `<dir>/`; the lock is package-lock.json's packages. */
export async function resolveNode(spec: NodeSpec, o: ResolveOptions): Promise<ImageLock | ResolveFailure> {
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  const failed = await buildNode(spec, { ...o, cwd: o.dir, fetchTimeoutS: o.pipTimeoutS });
  if (failed !== undefined) return asResolveFailure('installing the environment\'s packages on the host (npm install --omit=dev)', failed.params);
  let lock: { packages?: Record<string, { version?: string; integrity?: string }> } = {};
  try {
    lock = JSON.parse(readFileSync(join(o.dir, 'package-lock.json'), 'utf8')) as typeof lock;
  } catch {
    // no dependencies: npm may write no lock
  }
  const packages = Object.entries(lock.packages ?? {}).filter(([path]) => path !== '')
    .map(([path, p]) => ({ name: path.replace(/^.*node_modules\//, ''), version: p.version ?? '', ...(p.integrity === undefined ? {} : { integrity: p.integrity }) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { kind: 'node', packages };
}

function asResolveFailure(step: string, params: Readonly<Record<string, string>>): ResolveFailure {
  return { step, reason: params.reason ?? 'failed', tail: params.tail ?? tail([]) };
}

function minor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

function baseName(dir: string): string {
  return dir.replace(/\/+$/, '').split('/').at(-1) ?? 'resolve';
}

