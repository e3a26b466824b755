// What a process started "in" a built environment gets: the interpreter to run and the variables to set (shared by replicas and `berth serve --env`).
import { join } from 'node:path';
import type { EnvSpec } from './env-schema.js';

/** What a replica (or `berth serve`) runs with. */
export interface EnvironmentRuntime {
  /** `NAME:VERSION`. */
  readonly ref: string;
  readonly digest: string;
  /** The virtualenv's python (Python environments). */
  readonly python?: string;
  /** The folder with the installed packages (JS environments). */
  readonly nodeModules?: string;
  /** To set on top of the process's own environment. */
  readonly env: Readonly<Record<string, string>>;
}

export const venvPython = (dir: string): string => join(dir, 'venv', 'bin', 'python');

/**
 * The runtime of a version built in `dir`. `basePath` is the PATH the process would otherwise have: the virtualenv's
 * bin goes in front of it, as `activate` does, so the entry script's subprocesses find the environment's tools.
 */
export function runtimeFor(ref: string, digest: string, spec: EnvSpec, dir: string, basePath: string | undefined): EnvironmentRuntime {
  if (spec.build.kind === 'node') {
    const nodeModules = join(dir, 'node_modules');
    return { ref, digest, nodeModules, env: { ...spec.variables, NODE_PATH: nodeModules } };
  }
  const venv = join(dir, 'venv');
  const path = [join(venv, 'bin'), ...(basePath === undefined || basePath === '' ? [] : [basePath])].join(':');
  return { ref, digest, python: venvPython(dir), env: { ...spec.variables, VIRTUAL_ENV: venv, PATH: path } };
}
