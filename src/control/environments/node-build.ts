// Builds a JS environment: the package.json in its own folder, then an isolated `npm install` of its runtime dependencies.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildSpec } from './env-schema.js';
import type { BuildFailure } from './env-store.js';
import { failure, tail } from './python-build.js';
import { runStep, type StepOptions } from './run-step.js';

type NodeSpec = Extract<BuildSpec, { kind: 'node' }>;

export interface NodeBuildOptions extends StepOptions {
  readonly dir: string;
  /** The npm command (default `npm` on the control plane's PATH). */
  readonly npm: string;
  /** Per-request timeout; with no retries an unreachable registry fails in seconds, not after npm's minutes of back-off. */
  readonly fetchTimeoutS: number;
}

const UNREACHABLE = /\b(ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\b/;

export async function buildNode(spec: NodeSpec, o: NodeBuildOptions): Promise<BuildFailure | undefined> {
  writeFileSync(join(o.dir, 'package.json'), JSON.stringify(spec.package_json, null, 2) + '\n');
  // --install-links copies `file:` dependencies in (npm would link them), so the environment does not change when their folder does.
  const args = ['install', '--omit=dev', '--install-links', '--no-audit', '--no-fund', '--no-update-notifier', `--fetch-timeout=${o.fetchTimeoutS * 1000}`, '--fetch-retries=0'];
  // npm's cache is the home's, shared by every build (set by the builder); one per environment would cost a download each.
  const step = await runStep(o.npm, args, { ...o, cwd: o.dir, env: { ...o.env, NO_UPDATE_NOTIFIER: '1', npm_config_yes: 'true' } });
  if (step.code === 0 && !step.timedOut && !step.aborted) return undefined;
  if (step.timedOut || step.aborted || step.code === null) return failure(step, 'npm install');
  const lines = step.output.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  const errorLine = lines.find((l) => /^npm error (?!code\b)/.test(l)) ?? lines.at(-1) ?? '';
  const reason = `npm install exited with code ${step.code}: ${errorLine.replace(/^npm error\s*/, '')}`;
  const network = lines.find((l) => UNREACHABLE.test(l));
  if (network !== undefined) {
    return { code: 'PACKAGE_INDEX_UNREACHABLE', params: { reason, indexes: `the npm registry (${UNREACHABLE.exec(network)?.[1] ?? 'network error'})`, tail: tail(lines) } };
  }
  return { code: 'ENVIRONMENT_BUILD_FAILED', params: { reason, tail: tail(lines) } };
}
