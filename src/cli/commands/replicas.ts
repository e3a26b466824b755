// `berth replicas`: how many replicas a load needs (DESIGN.md's replica calculator), worked step by step; needs no control plane.
import type { Command } from 'commander';
import { z } from 'zod';
import { calculateReplicas, num, REPLICA_FORMULA } from '../../autoscale/calculator.js';
import { parseOrThrow } from '../../core/parse-settings.js';
import type { CliContext } from '../context.js';
import { outputOption, printJson, type OutputFormat } from '../output.js';

/** Flag text → number, so a typo gets "must be a number" naming the flag rather than NaN downstream. */
const numeric = z
  .string()
  .trim()
  .refine((v) => v !== '' && Number.isFinite(Number(v)), 'must be a number')
  .transform(Number);

const schema = z
  .object({
    rps: numeric.pipe(z.number().gt(0, 'must be greater than 0')),
    requestSeconds: numeric.pipe(z.number().gt(0, 'must be greater than 0')),
    maxConcurrent: numeric.pipe(z.number().int('must be a whole number').min(1, 'must be at least 1')),
    targetUtilization: numeric.pipe(z.number().min(1, 'must be at least 1 (%)').max(100, 'must be at most 100 (%)')),
  })
  .strict();

const MAX_SERVICE_REPLICAS = 100;

const flagNames = { rps: '--rps', requestSeconds: '--request-seconds', maxConcurrent: '--max-concurrent', targetUtilization: '--target-utilization' };

interface ReplicasOpts {
  rps: string;
  requestSeconds: string;
  maxConcurrent: string;
  targetUtilization: string;
  output: OutputFormat;
}

export function registerReplicas(program: Command, ctx: CliContext): void {
  program
    .command('replicas')
    .description('Calculate how many replicas a load needs, step by step (no control plane needed)')
    .requiredOption('--rps <n>', 'requests per second to serve')
    .requiredOption('--request-seconds <s>', 'how long one request takes, in seconds (e.g. 0.05)')
    .option('--max-concurrent <n>', 'requests one replica takes at once (replica_max_concurrent_requests)', '1')
    .option('--target-utilization <percent>', 'target busy share of the replicas, 1-100 (autoscale_target_utilization)', '70')
    .addOption(outputOption())
    .action((opts: ReplicasOpts) => {
      const { output, ...raw } = opts;
      const p = parseOrThrow(schema, raw, flagNames);
      const calc = calculateReplicas({ targetRps: p.rps, requestSeconds: p.requestSeconds, maxConcurrentPerReplica: p.maxConcurrent, targetUtilization: p.targetUtilization });
      if (output === 'json') return printJson(ctx, { formula: REPLICA_FORMULA, ...calc });
      ctx.out(REPLICA_FORMULA);
      const width = Math.max(...calc.steps.map((s) => s.label.length));
      for (const s of calc.steps) ctx.out(`  ${s.label.padEnd(width)}  ${s.expression} = ${num(s.value)}`);
      ctx.out(`${calc.replicas} replica${calc.replicas === 1 ? '' : 's'} serve ${num(p.rps)} requests/s at ${num(p.targetUtilization)}% utilization`);
      // A service has at most 100 replicas (the deployment spec's limit): say so rather than suggest a count that cannot be deployed.
      if (calc.replicas > MAX_SERVICE_REPLICAS) ctx.out(`that is more than the ${MAX_SERVICE_REPLICAS} replicas a service can have: raise --max-concurrent or make requests faster`);
    });
}
