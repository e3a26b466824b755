// `berth service update --traffic/--mirror/--rollback-on`, `service traffic`, `service promote`, `service rollback`: rollouts from the command line.
import type { Command } from 'commander';
import type { Operation } from '../../control/services/operations.js';
import type { RolloutView } from '../../control/services/rollout-view.js';
import type { UpdateRequest } from '../../control/services/spec.js';
import { BerthError } from '../../errors/catalogue.js';
import type { ApiClient } from '../api-client.js';
import type { CliContext } from '../context.js';
import { printJson, printTable, type OutputFormat } from '../output.js';
import { finish } from './deploy.js';

/** The rollout flags of `service update`. */
export interface RolloutFlags {
  traffic?: string;
  canary?: string;
  mirror?: string;
  rollbackOn?: string;
  window?: string;
}

export function addRolloutOptions(cmd: Command): Command {
  return cmd
    .option('--traffic <percent>', 'start the new generation beside the current one with this percent of requests (0-100); promote or roll back later')
    .option('--canary <percent>', 'the same as --traffic')
    .option('--mirror <percent>', 'copy this percent of the other requests to the new generation; its answers are discarded (only its metrics count)')
    .option('--rollback-on <rule>', 'with --traffic or --mirror: roll the new generation back automatically, e.g. "error_rate>2%,p99>500ms"')
    .option('--window <duration>', 'the --rollback-on window, e.g. 60s (default) or 5m');
}

const percent = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d{1,3}$/.test(v.trim()) || Number(v) > 100) throw new BerthError('INVALID_ARGUMENT', { detail: `${flag} takes a whole percent from 0 to 100, not "${v}"` });
  return Number(v);
};

/** The rollout request the flags ask for, or undefined for a plain update (no --traffic, --canary or --mirror). */
export function rolloutBody(f: RolloutFlags, changes: UpdateRequest): Record<string, unknown> | undefined {
  if (f.traffic !== undefined && f.canary !== undefined && f.traffic !== f.canary) throw new BerthError('INVALID_ARGUMENT', { detail: '--canary is another name for --traffic: give one of them' });
  const traffic = percent('--traffic', f.traffic ?? f.canary);
  const mirror = percent('--mirror', f.mirror);
  if (traffic === undefined && mirror === undefined) {
    if (f.rollbackOn !== undefined || f.window !== undefined) throw new BerthError('INVALID_ARGUMENT', { detail: '--rollback-on and --window guard a rollout: add --traffic PERCENT (or --mirror PERCENT)' });
    return undefined;
  }
  return {
    changes, ...(traffic === undefined ? {} : { traffic }), ...(mirror === undefined ? {} : { mirror }),
    ...(f.rollbackOn === undefined ? {} : { rollback_on: f.rollbackOn }), ...(f.window === undefined ? {} : { window: f.window }),
  };
}

/** `GEN=PERCENT` arguments as the API's weights. */
export function parseWeights(args: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of args) {
    const m = /^(\d{1,9})=(\d{1,3})%?$/.exec(a.trim());
    if (m === null) throw new BerthError('INVALID_ARGUMENT', { detail: `"${a}" is not GENERATION=PERCENT (e.g. 3=25 2=75)` });
    if (m[1]! in out) throw new BerthError('INVALID_ARGUMENT', { detail: `generation ${m[1]} is given twice` });
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

interface Opts { server?: string; output: OutputFormat; wait: boolean }

export function registerRolloutCommands(leaf: (name: string, description: string) => Command, ctx: CliContext, client: (opts: { server?: string }) => ApiClient, checkName: (name: string) => string): void {
  leaf('traffic', 'Change a rollout\'s split: GENERATION=PERCENT for every live generation, summing to 100 (e.g. 3=25 2=75)')
    .argument('<name>')
    .argument('[weights...]', 'GENERATION=PERCENT pairs')
    .option('--mirror <percent>', 'copy this percent of the other requests to the candidate (0 stops the mirror)')
    .action(async (name: string, weights: string[], opts: Opts & { mirror?: string }) => {
      const mirror = percent('--mirror', opts.mirror);
      if (weights.length === 0 && mirror === undefined) throw new BerthError('INVALID_ARGUMENT', { detail: 'give GENERATION=PERCENT pairs (e.g. 3=25 2=75) and/or --mirror PERCENT' });
      const body = { ...(weights.length === 0 ? {} : { weights: parseWeights(weights) }), ...(mirror === undefined ? {} : { mirror }) };
      const { rollout } = await client(opts).call<{ rollout?: RolloutView }>('PUT', `/v1/services/${checkName(name)}/rollout/traffic`, { json: body });
      if (opts.output === 'json') return printJson(ctx, rollout);
      if (rollout !== undefined) printRollout(ctx, rollout);
    });
  for (const [verb, help] of [
    ['promote', 'Promote the candidate generation: it takes every request; the old one drains (no request lost) and stops'],
    ['rollback', 'Roll the candidate generation back: the stable one takes every request at once; the candidate stops'],
  ] as const) {
    leaf(verb, help)
      .argument('<name>')
      .option('--no-wait', 'return at once with the operation id')
      .action(async (name: string, opts: Opts) => {
        const api = client(opts);
        const { operation } = await api.call<{ operation: Operation }>('POST', `/v1/services/${checkName(name)}/rollout/${verb}`);
        await finish(api, ctx, operation, opts);
      });
  }
}

/** The generations of a rollout side by side, as `service show` and `service traffic` print them. */
export function printRollout(ctx: CliContext, r: RolloutView): void {
  ctx.out(`rollout ${r.state}: generation ${r.candidate_generation} (candidate) beside generation ${r.stable_generation} (stable)${r.mirror_percent > 0 ? `; mirror ${r.mirror_percent}% to the candidate` : ''}${r.guardrail === null ? '' : `; rolled back if ${r.guardrail}`}`);
  const dash = (v: number | null, unit = ''): string => (v === null ? '-' : `${v}${unit}`);
  printTable(ctx, [
    { header: 'GEN', value: (g: RolloutView['generations'][number]) => g.generation, align: 'right' },
    { header: 'ROLE', value: (g) => g.role },
    { header: 'WEIGHT', value: (g) => `${g.weight_percent}%`, align: 'right' },
    { header: 'NOW', value: (g) => `${g.effective_percent}%`, align: 'right' },
    { header: 'READY', value: (g) => `${g.ready_replicas}/${g.desired_replicas}`, align: 'right' },
    { header: 'BOUNDS', value: (g) => (g.min_replicas === undefined ? '-' : `${g.min_replicas}-${g.max_replicas ?? '?'}`) },
    { header: 'REQUESTS', value: (g) => g.requests, align: 'right' },
    { header: 'MIRRORED', value: (g) => g.mirrored, align: 'right' },
    { header: '5XX', value: (g) => dash(g.error_rate_percent, '%'), align: 'right' },
    { header: 'P50', value: (g) => dash(g.latency_p50_ms, ' ms'), align: 'right' },
    { header: 'P99', value: (g) => dash(g.latency_p99_ms, ' ms'), align: 'right' },
  ], r.generations);
}
