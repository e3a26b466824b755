// `berth operation show ID`: what a deployment, update or deletion is doing or did: status, progress, error.
import type { Command } from 'commander';
import type { Operation } from '../../control/services/operations.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { seconds } from '../operation-wait.js';
import { outputOption, printFields, printJson, type OutputFormat } from '../output.js';
import { SERVER_HELP } from './deploy.js';

export function registerOperationCommands(program: Command, ctx: CliContext): void {
  const operation = program.command('operation').description('Follow the operations that deploy, update and delete services');
  operation.command('show').description('Show an operation: kind, service, status, progress, error')
    .argument('<id>')
    .option('--server <url>', SERVER_HELP)
    .addOption(outputOption())
    .action(async (id: string, opts: { server?: string; output: OutputFormat }) => {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new BerthError('INVALID_ARGUMENT', { detail: `"${id}" is not an operation id (a UUID, as printed by berth deploy --no-wait)` });
      const op = await new ApiClient(parseClientSettings(opts, ctx.env)).call<Operation>('GET', `/v1/operations/${id}`);
      if (opts.output === 'json') return printJson(ctx, op);
      printFields(ctx, [
        ['operation', op.id],
        ['kind', op.kind],
        ['service', op.service],
        ['status', op.status],
        ['progress', op.progress],
        ['started', op.started_at],
        ['ended', op.ended_at ?? '-'],
        ['duration', seconds(op.duration_ms)],
        ...(op.error === undefined ? [] : [['error', `${op.error.code}: ${op.error.message}`] as const, ['fix', op.error.fix] as const]),
      ]);
    });
}
