// `berth service requests NAME [REQUEST_ID] --failed`: the captured failed requests of a service, or one of them whole.
import type { Command } from 'commander';
import type { CapturedList, CapturedWhole } from '../../control/api/capture-routes.js';
import type { CapturedRequest } from '../../control/services/capture-store.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { formatBytes, outputOption, printFields, printJson, printTable, type OutputFormat } from '../output.js';
import { SERVER_HELP } from './deploy.js';
import { checkServiceName } from './service.js';

interface Opts { server?: string; output: OutputFormat; failed?: boolean; limit: string }

/** Adds `requests` to the `service` command registered before it. */
export function registerServiceRequests(program: Command, ctx: CliContext): void {
  const service = program.commands.find((c) => c.name() === 'service');
  if (service === undefined) return;
  service.command('requests').description('Captured failed requests (5xx) of a service that has --capture-failures, newest first; with a request id, that one whole')
    .argument('<name>')
    .argument('[request-id]', 'show this captured request whole: headers, body (redacted), replica, traceback')
    .option('--failed', 'the failed requests (the only ones captured; the default)')
    .option('--limit <n>', 'the newest N', '100')
    .option('--server <url>', SERVER_HELP)
    .addOption(outputOption())
    .action(async (name: string, requestId: string | undefined, opts: Opts) => {
      checkServiceName(name);
      if (!/^\d{1,5}$/.test(opts.limit) || Number(opts.limit) < 1 || Number(opts.limit) > 10_000) throw new BerthError('INVALID_ARGUMENT', { detail: `--limit ${opts.limit}: give a number 1-10000` });
      const api = new ApiClient(parseClientSettings(opts, ctx.env));
      if (requestId !== undefined) {
        const one = await api.call<CapturedWhole>('GET', `/v1/services/${name}/requests/${encodeURIComponent(requestId)}`);
        return opts.output === 'json' ? printJson(ctx, one) : printWhole(ctx, name, one);
      }
      const list = await api.call<CapturedList>('GET', `/v1/services/${name}/requests`, { query: { failed: 'true', limit: opts.limit } });
      if (opts.output === 'json') return printJson(ctx, list);
      const c = list.capture;
      if (!c.enabled) ctx.err(`capture is off for ${name}${list.requests.length > 0 ? ' (these were kept while it was on)' : ''}; turn it on with: berth service update ${name} --capture-failures`);
      ctx.out(`${list.requests.length} failed request(s) of ${name}, ${formatBytes(list.bytes)} kept (at most ${c.max_requests} requests, ${c.max_mb} MiB); redacted: authorization${c.redact.length === 0 ? '' : `, ${c.redact.join(', ')}`}`);
      if (list.requests.length === 0) return;
      printTable(ctx, [
        { header: 'TIME', value: (r: CapturedRequest) => r.time },
        { header: 'REQUEST ID', value: (r) => r.request_id },
        { header: 'STATUS', value: (r) => r.status, align: 'right' },
        { header: 'REPLICA', value: (r) => r.replica ?? '-' },
        { header: 'BODY', value: (r) => (r.body_omitted === undefined ? formatBytes(r.body_bytes) : 'omitted'), align: 'right' },
        { header: 'ERROR', value: (r) => oneLine(r.error ?? r.response ?? '-') },
      ], list.requests);
      ctx.out(`show one: berth service requests ${name} REQUEST_ID; replay it locally: berth service debug ${name} --replay REQUEST_ID [--inspect]`);
    });
}

function printWhole(ctx: CliContext, service: string, r: CapturedWhole): void {
  printFields(ctx, [
    ['request id', r.request_id],
    ['time', r.time],
    ['status', `${r.status} (as the client got it)`],
    ['replica', r.replica === undefined ? '- (none reached)' : `${r.replica}${r.generation === undefined ? '' : ` (generation ${r.generation})`}`],
    ['request', `${r.method} ${r.path}`],
    ['redacted', r.redacted.length === 0 ? '-' : r.redacted.join(', ')],
    ['error', r.error ?? '-'],
    ['response', oneLine(r.response ?? '-')],
  ]);
  ctx.out('\nheaders:');
  for (const [k, v] of Object.entries(r.headers)) ctx.out(`  ${k}: ${v}`);
  if (r.body_omitted !== undefined) ctx.out(`\nbody: not kept: ${r.body_omitted}`);
  else ctx.out(`\nbody (${formatBytes(r.body_bytes)}${r.body_encoding === 'base64' ? ', base64: not UTF-8' : ''}):\n${r.body ?? ''}`);
  if (r.traceback !== undefined) ctx.out(`\ntraceback:\n${r.traceback.trimEnd()}`);
  ctx.out(`\nreplay it locally: berth service debug ${service} --replay ${r.request_id} [--inspect]`);
}

const oneLine = (s: string): string => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
};
