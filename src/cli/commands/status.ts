// `berth status`: whether the control plane answers, where, its version, and what it holds. Not running → exit 1.
import type { Command } from 'commander';
import type { Status } from '../../control/api/system-routes.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { outputOption, printFields, printJson, type OutputFormat } from '../output.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('Show whether the berth control plane runs, where, its version and what it holds (exit 1 when it does not run)')
    .option('--server <url>', 'control plane URL (default $BERTH_SERVER, else the one running for $BERTH_HOME, else http://127.0.0.1:7070)')
    .addOption(outputOption())
    .action(async (opts: { server?: string; output: OutputFormat }) => {
      const client = new ApiClient(parseClientSettings(opts, ctx.env));
      const s = await client.call<Status>('GET', '/v1/status');
      if (opts.output === 'json') return printJson(ctx, s);
      printFields(ctx, [
        ['status', `running at ${s.url}`],
        ['version', s.version],
        ['pid', s.pid],
        ['home', s.home],
        ['started', s.started_at],
        ['models', `${s.models.names} (${s.models.versions} versions)`],
        ['services', s.services],
      ]);
    });
}
