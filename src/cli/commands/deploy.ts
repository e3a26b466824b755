// `berth deploy`: deploys an entry script + models + config as a service, shows progress, then the state, scoring URI and key.
import type { Command } from 'commander';
import type { Operation } from '../../control/services/operations.js';
import type { ServiceDetail } from '../../control/services/view.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { printOutcome, seconds, throwIfFailed, waitForOperation } from '../operation-wait.js';
import { outputOption, printJson, type OutputFormat } from '../output.js';
import { addSpecOptions, deployRequest } from '../service-request.js';

/** What the CLI prints while an operation of each kind runs. */
const VERBING: Readonly<Record<Operation['kind'], string>> = { deploy: 'deploying', update: 'updating', delete: 'deleting', promote: 'promoting the candidate of', rollback: 'rolling back the candidate of' };

export const SERVER_HELP = 'control plane URL (default $BERTH_SERVER, else the one running for $BERTH_HOME, else http://127.0.0.1:7070)';

export function registerDeploy(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('deploy')
    .description('Deploy a service: entry script + source dir + models + config, as flags or -f service.yml')
    .option('--name <name>', 'service name: 3-32 lower-case letters, digits and -');
  addSpecOptions(cmd)
    .option('--no-wait', 'return at once with the operation id (follow it with berth operation show ID)')
    .option('--server <url>', SERVER_HELP)
    .addOption(outputOption())
    .action(async (opts: { name?: string; wait: boolean; server?: string; output: OutputFormat }) => {
      const request = await deployRequest(cmd, ctx.cwd, opts.name);
      const api = new ApiClient(parseClientSettings(opts, ctx.env));
      const { operation } = await api.call<{ operation: Operation }>('POST', '/v1/services', { json: request });
      await finish(api, ctx, operation, opts);
    });
}

/** Waits for (or, with --no-wait, just reports) a deploy or update operation and prints its outcome. */
export async function finish(api: ApiClient, ctx: CliContext, operation: Operation, opts: { wait: boolean; output: OutputFormat }): Promise<void> {
  const json = opts.output === 'json';
  if (!opts.wait) {
    if (json) return printJson(ctx, operation);
    ctx.out(`operation ${operation.id} started (${operation.kind} ${operation.service})`);
    ctx.out(`follow it with: berth operation show ${operation.id}`);
    return;
  }
  if (!json) ctx.out(`${VERBING[operation.kind]} ${operation.service} (operation ${operation.id})`);
  const done = await waitForOperation(api, operation, ctx, !json);
  if (done.kind === 'delete') {
    if (json) printJson(ctx, done);
    else if (done.status === 'Succeeded') ctx.out(`deleted service ${done.service} in ${seconds(done.duration_ms)}`);
    throwIfFailed(done);
    return;
  }
  const svc = await api.call<ServiceDetail>('GET', `/v1/services/${done.service}`).catch(() => undefined);
  if (json) printJson(ctx, { operation: done, service: svc });
  else if (done.status === 'Succeeded' && svc !== undefined) printOutcome(ctx, done, svc);
  else if (svc !== undefined) ctx.out(`${done.kind} failed after ${seconds(done.duration_ms)}; service ${svc.name} is ${svc.state}${svc.state === 'Healthy' ? ` (generation ${svc.generation} keeps serving)` : ''}`);
  if (done.status === 'Failed' && !json) ctx.out(`see what is wrong, with the evidence and the fix: berth diagnose ${done.service}`);
  throwIfFailed(done);
}
