// Follows an operation until it ends, printing each new progress line; a failed operation becomes its error (one line, a fix, non-zero exit).
import type { Operation } from '../control/services/operations.js';
import type { ServiceDetail } from '../control/services/view.js';
import { fromHttpError } from '../errors/http.js';
import type { ApiClient } from './api-client.js';
import type { CliContext } from './context.js';
import { printFields } from './output.js';

/** How long one long poll waits for news before it asks again. */
const LONG_POLL_MS = 10_000;

export async function waitForOperation(api: ApiClient, op: Operation, ctx: CliContext, showProgress: boolean): Promise<Operation> {
  let printed = 0;
  let delay = 100;
  for (;;) {
    // A long poll: answered as soon as there is a new step or the operation ended, so the command returns the moment
    // it does. A control plane from before the long poll ignores the query and answers at once.
    const cur = await api.call<Operation>('GET', `/v1/operations/${op.id}`, { query: { seen: String(printed), wait_ms: String(LONG_POLL_MS) } });
    const news = cur.steps.length > printed;
    // Every step, also those that came and went between two answers.
    if (showProgress) for (const step of cur.steps.slice(printed)) ctx.out(`  ${step.text}`);
    printed = cur.steps.length;
    if (cur.status !== 'Running') return cur;
    if (news) continue;
    // Nothing new (the long poll's wait ran out, or an older control plane answered at once): ask again a little later,
    // quick at first, gentler while it waits for resources.
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(500, Math.round(delay * 1.5));
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Throws the operation's error, as if the API had answered with it. */
export function throwIfFailed(op: Operation): void {
  if (op.status === 'Failed') throw fromHttpError(500, op.error ?? { code: 'INTERNAL', message: `operation ${op.id} failed` });
}

/** After a deploy or update: the state, where to score it, its key, and what to run next. */
export function printOutcome(ctx: CliContext, op: Operation, svc: ServiceDetail): void {
  const verb = op.kind === 'deploy' ? 'deployed' : op.kind === 'promote' ? 'promoted' : op.kind === 'rollback' ? 'rolled back' : 'updated';
  const r = svc.rollout;
  if (r !== undefined) ctx.out(`generation ${r.candidate_generation} is live beside generation ${r.stable_generation}: ${r.generations.map((g) => `${g.generation}=${g.weight_percent}%`).join(' ')}${r.mirror_percent > 0 ? `, mirror ${r.mirror_percent}%` : ''}${r.guardrail === null ? '' : `; rolled back if ${r.guardrail}`}`);
  ctx.out(`service ${svc.name} is ${svc.state}: ${svc.ready_replicas}/${svc.desired_replicas} replica(s) ready (${verb} in ${seconds(op.duration_ms)}, generation ${svc.generation})`);
  printFields(ctx, [
    ['scoring URI', svc.scoring_uri],
    ...(svc.auth === 'key' ? [['primary key', svc.keys.primary] as const] : []),
    ['try it', `berth service run ${svc.name} --data '{"data": [[1, 2, 3]]}'`],
  ]);
}
