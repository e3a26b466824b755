// `berth diagnose S [--since 15m] [--output json]`: what is wrong with a service, the evidence, and the fix, most severe first.
import type { Command } from 'commander';
import type { z } from 'zod';
import type { diagnosisSchema } from '../../control/api/diagnose-routes.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { outputOption, printJson, type OutputFormat } from '../output.js';
import { SERVER_HELP } from './deploy.js';

export type DiagnosisView = z.infer<typeof diagnosisSchema>;

export function registerDiagnose(program: Command, ctx: CliContext): void {
  program.command('diagnose').description('Explain what is wrong with a service: findings with symptom, cause, evidence and fix, most severe first')
    .argument('<name>')
    .option('--since <duration>', 'how far back to look at events, logs and requests (30s, 15m, 2h)', '15m')
    .option('--server <url>', SERVER_HELP)
    .addOption(outputOption())
    .action(async (name: string, opts: { since: string; server?: string; output: OutputFormat }) => {
      if (!/^\d{1,6}[smh]$/.test(opts.since)) throw new BerthError('INVALID_ARGUMENT', { detail: `--since ${opts.since}: give a duration like 30s, 15m or 2h` });
      const api = new ApiClient(parseClientSettings(opts, ctx.env));
      const d = await api.call<DiagnosisView>('GET', `/v1/services/${encodeURIComponent(name)}/diagnose`, { query: { since: opts.since } });
      if (opts.output === 'json') return printJson(ctx, d);
      printDiagnosis(ctx, d);
    });
}

export function printDiagnosis(ctx: CliContext, d: DiagnosisView): void {
  ctx.out(d.summary);
  for (const g of d.numbers.generations ?? []) {
    ctx.out(`  generation ${g.generation} (${g.role}): ${g.weight_percent}% configured, ${g.effective_percent}% now, ${g.ready_replicas}/${g.desired_replicas} ready, ${g.requests} request(s) (${g.mirrored} mirrored), 5xx ${g.error_rate_percent ?? '-'}%, p99 ${g.latency_p99_ms ?? '-'} ms`);
  }
  if (d.findings.length === 0) {
    const n = d.numbers;
    const errors = Object.entries(n.errors).map(([code, count]) => `${count}×${code}`).join(', ');
    ctx.out(`  requests: ${n.requests} (${n.request_rate}/s), latency p50 ${n.latency_p50_ms ?? '-'} ms, p99 ${n.latency_p99_ms ?? '-'} ms, errors: ${errors === '' ? 'none' : errors}`);
    ctx.out(`  restarts: ${n.restarts}, utilization: ${n.utilization === null ? 'not sampled' : `${n.utilization}%`}`);
    return;
  }
  d.findings.forEach((f, i) => {
    ctx.out('');
    ctx.out(`${i + 1}. [${f.severity}] ${f.code}: ${f.symptom}`);
    ctx.out(`   cause: ${f.cause}`);
    ctx.out('   evidence:');
    for (const e of f.evidence) ctx.out(`     ${e.startsWith('  ') ? e : `- ${e}`}`);
    ctx.out(`   fix: ${f.fix}`);
  });
}
