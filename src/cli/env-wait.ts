// Following an environment's build from the CLI, and resolving one for `berth serve --env` (its interpreter and variables).
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { parseEnvRef, type EnvironmentView } from '../control/environments/env-schema.js';
import { runtimeFor, type EnvironmentRuntime } from '../control/environments/runtime.js';
import { fromHttpError } from '../errors/http.js';
import { ApiClient, parseClientSettings } from './api-client.js';
import type { CliContext } from './context.js';
import { formatBytes } from './output.js';

export const versionPath = (r: { name: string; version?: number }): string => `/v1/environments/${encodeURIComponent(r.name)}/versions/${r.version ?? 'latest'}`;
export const label = (v: EnvironmentView): string => `${v.name}:${v.version}`;
export const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** Polls the version until its build ends; prints the log's newest line as progress (to stderr, so stdout stays NAME:VERSION). */
export async function waitForBuild(api: ApiClient, ctx: CliContext, start: EnvironmentView, show: boolean): Promise<EnvironmentView> {
  const path = versionPath({ name: start.name, version: start.version });
  let v = start;
  if (show && v.state === 'Building') ctx.err(`building ${label(v)} (digest ${v.digest.slice(0, 12)})`);
  let last = '';
  let delay = 100;
  while (v.state === 'Building') {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(1000, Math.round(delay * 1.5));
    v = await api.call<EnvironmentView>('GET', path);
    if (show && v.state === 'Building') {
      const line = (await readAll(await api.download(`${path}/log`, { tail: '1' }))).trim();
      if (line !== '' && line !== last && !line.startsWith('#')) ctx.err(`  ${line.length > 160 ? `${line.slice(0, 160)}…` : line}`);
      last = line;
    }
  }
  if (show && v.state === 'Built') {
    ctx.err(start.state === 'Built'
      ? `${label(v)} reuses the built environment ${v.digest.slice(0, 12)} (no build; ${v.builds} build(s) of this digest so far)`
      : `${label(v)} built in ${seconds(v.build_ms)} (${v.size === undefined ? '?' : formatBytes(v.size)})`);
  }
  return v;
}

/** A failed version's error, as the API would have answered it: message with the log's tail, and the fix. */
export function throwIfFailed(v: EnvironmentView): void {
  if (v.state === 'Failed') throw fromHttpError(500, v.error ?? { code: 'ENVIRONMENT_BUILD_FAILED', message: `building environment ${label(v)} failed` });
}

/**
 * For `berth serve --env E[:V]`: the version from the control plane, built first when it is not (a failed build
 * fails at once, as a deployment would), turned into the interpreter and variables to run with.
 */
export async function resolveServeEnvironment(ref: string, flags: { server?: string | undefined }, ctx: CliContext): Promise<EnvironmentRuntime> {
  const api = new ApiClient(parseClientSettings(flags, ctx.env));
  const path = versionPath(parseEnvRef(ref));
  let v = await api.call<EnvironmentView>('GET', path);
  throwIfFailed(v);
  if (v.state !== 'Built') v = await waitForBuild(api, ctx, await api.call<EnvironmentView>('POST', `${path}/build`), true);
  throwIfFailed(v);
  return runtimeFor(label(v), v.digest, v.spec, v.path, ctx.env.PATH);
}

/**
 * A JS environment's packages are found through NODE_PATH, which Node reads only when a process starts, and JS entry
 * scripts run inside `berth serve` itself: so serve starts itself again with the environment's variables (that run
 * sees NODE_PATH already set and goes on). Resolves with false when no restart is needed; else never resolves.
 */
export function restartWithNodePath(runtime: EnvironmentRuntime, ctx: CliContext, argv: readonly string[]): Promise<boolean> {
  const wanted = runtime.env.NODE_PATH;
  if (wanted === undefined || ctx.env.NODE_PATH === wanted) return Promise.resolve(false);
  return new Promise(() => {
    const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], { env: { ...ctx.env, ...runtime.env } as NodeJS.ProcessEnv, stdio: 'inherit' });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
    child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + (osConstants.signals[signal] ?? 0))));
  });
}

export async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
