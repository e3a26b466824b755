// Builds a Python environment: a virtualenv from the interpreter, then pip with the requirements; a failure says why in pip's words.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildSpec } from './env-schema.js';
import type { BuildFailure } from './env-store.js';
import { runStep, type StepOptions, type StepResult } from './run-step.js';
import { venvPython } from './runtime.js';

type PythonSpec = Extract<BuildSpec, { kind: 'python' }>;

export interface PythonBuildOptions extends StepOptions {
  /** The folder the environment is built in (its final place: a virtualenv's scripts carry their absolute path). */
  readonly dir: string;
  /** pip's own debug log (`--log`), where it records the index requests the console output leaves out. */
  readonly pipDebugLog: string;
  /** pip's per-request network timeout; with no retries, an unreachable index costs at most this per URL. */
  readonly pipTimeoutS: number;
  /** Reads a file, for the debug log (injected so a test can fake it). */
  readonly readText: (path: string) => string;
}


/** Runs the steps; resolves with undefined on success, or the failure to record. */
export async function buildPython(spec: PythonSpec, o: PythonBuildOptions): Promise<BuildFailure | undefined> {
  const python = venvPython(o.dir);
  // Without pip: ensurepip costs seconds, and is not needed when there is nothing to install or another pip can
  // install into this virtualenv (see choosePip).
  const venvArgs = ['-m', 'venv', '--without-pip', ...(spec.system_site_packages ? ['--system-site-packages'] : []), join(o.dir, 'venv')];
  const venv = await runStep(spec.interpreter.executable, venvArgs, o);
  if (!succeeded(venv)) return failure(venv, 'creating the virtualenv');
  if (spec.requirements.length === 0) return undefined;

  const pipCommand = await choosePip(spec.interpreter.executable, python, o);
  if ('code' in pipCommand) return pipCommand;

  const requirementsFile = join(o.dir, 'requirements.txt');
  writeFileSync(requirementsFile, spec.requirements.join('\n') + '\n');
  const [command, ...prefix] = pipCommand.argv;
  const pip = await runStep(command!, [...prefix, 'install', ...pipArgs(spec, o), '-r', requirementsFile], {
    ...o,
    // Never prompt (there is no one to answer), never nag about pip's own version.
    env: { ...o.env, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUNBUFFERED: '1' },
  });
  if (succeeded(pip)) return undefined;
  if (pip.timedOut || pip.aborted) return failure(pip, 'pip install');
  return classifyPipFailure(pip, safeRead(o.readText, o.pipDebugLog));
}

/**
 * The pip that installs into the virtualenv, cheapest first: its own (seen through the system site packages), the
 * base interpreter's driving it with `--python` (pip 22.3+), and only then ensurepip, which costs seconds per build.
 */
async function choosePip(base: string, python: string, o: StepOptions): Promise<{ argv: string[] } | BuildFailure> {
  const own = await runStep(python, ['-m', 'pip', '--version'], o);
  if (own.aborted || own.timedOut) return failure(own, 'looking for pip');
  if (succeeded(own)) return { argv: [python, '-m', 'pip'] };
  const outer = await runStep(base, ['-m', 'pip', '--version'], o);
  if (outer.aborted || outer.timedOut) return failure(outer, 'looking for pip');
  const m = /^pip (\d+)\.(\d+)/m.exec(outer.output);
  if (succeeded(outer) && m !== null && (Number(m[1]) > 22 || (Number(m[1]) === 22 && Number(m[2]) >= 3))) {
    return { argv: [base, '-m', 'pip', '--python', python] };
  }
  const ensure = await runStep(python, ['-m', 'ensurepip', '--default-pip'], o);
  if (!succeeded(ensure)) return failure(ensure, 'installing pip into the virtualenv (ensurepip)');
  return { argv: [python, '-m', 'pip'] };
}

/** pip's flags: the spec's index options, and a short timeout with no retries so an unreachable index fails in seconds. */
export function pipArgs(spec: PythonSpec, o: Pick<PythonBuildOptions, 'pipTimeoutS' | 'pipDebugLog'>): string[] {
  const args = ['--disable-pip-version-check', '--no-input', '--timeout', String(o.pipTimeoutS), '--retries', '0', '--log', o.pipDebugLog];
  const p = spec.pip;
  if (p.no_index) args.push('--no-index');
  if (p.index_url !== undefined) args.push('--index-url', p.index_url);
  for (const u of p.extra_index_urls) args.push('--extra-index-url', u);
  for (const f of p.find_links) args.push('--find-links', f);
  for (const h of p.trusted_hosts) args.push('--trusted-host', h);
  return args;
}

const CONNECTION_ERROR = /Could not fetch URL (\S+?):? .*?(connection error|Max retries exceeded|timed out|NewConnectionError|Name or service not known|Connection refused)/;

/**
 * Why pip failed. pip reports an unreachable index only in its debug log ("Could not fetch URL … connection error"),
 * and then says "No matching distribution found": that pair means the index, not the requirement, is the problem.
 */
export function classifyPipFailure(pip: StepResult, debugLog: string): BuildFailure {
  const lines = pip.output.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  const errorLine = [...lines].reverse().find((l) => /^ERROR:/.test(l)) ?? lines.at(-1) ?? `pip exited with code ${pip.code ?? pip.signal}`;
  const noMatch = lines.some((l) => /No matching distribution found|Could not find a version that satisfies/.test(l));
  const unreachable = new Map<string, string>();
  for (const line of debugLog.split('\n')) {
    const m = CONNECTION_ERROR.exec(line);
    if (m === null) continue;
    const url = m[1]!.replace(/\/[^/]+\/?$/, '/'); // the project page's index, e.g. https://pypi.org/simple/
    if (!unreachable.has(url)) unreachable.set(url, reasonOf(line));
  }
  const reason = `pip install exited with code ${pip.code ?? pip.signal}: ${errorLine.replace(/^ERROR:\s*/, '')}`;
  if (noMatch && unreachable.size > 0) {
    const where = [...unreachable].map(([url, why]) => `${url} (${why})`).join(', ');
    return { code: 'PACKAGE_INDEX_UNREACHABLE', params: { reason, indexes: where, tail: tail(lines) } };
  }
  return { code: 'ENVIRONMENT_BUILD_FAILED', params: { reason, tail: tail(lines) } };
}

/** The error of a step that did not get to pip's verdict: it failed to start, timed out or was stopped. */
export function failure(step: StepResult, what: string): BuildFailure {
  const lines = step.output.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  const how = step.aborted ? 'was stopped (the control plane is shutting down)'
    : step.timedOut ? 'took longer than the build time limit and was killed'
    : step.code === null ? `ended by ${step.signal ?? 'an error'}` : `exited with code ${step.code}`;
  return { code: 'ENVIRONMENT_BUILD_FAILED', params: { reason: `${what} ${how}${lines.length > 0 ? `: ${lines.at(-1)}` : ''}`, tail: tail(lines) } };
}

/** The last lines of output, each on a line of its own, indented, for the error message (the whole log is one command away). */
export function tail(lines: readonly string[], n = 12): string {
  return lines.slice(-n).map((l) => `\n  | ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`).join('');
}

function succeeded(step: StepResult): boolean {
  return step.code === 0 && !step.timedOut && !step.aborted;
}

function reasonOf(line: string): string {
  const m = /\[Errno [^\]]+\] ([^'")]+)|(Connection refused|timed out|Name or service not known|Temporary failure in name resolution)/.exec(line);
  return (m?.[1] ?? m?.[2] ?? 'connection error').trim();
}

function safeRead(read: (p: string) => string, path: string): string {
  try {
    return read(path);
  } catch {
    return '';
  }
}
