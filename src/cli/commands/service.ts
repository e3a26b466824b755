// `berth service list | show | update | delete | run | events`: services through the control plane's API.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ServiceEvent } from '../../control/services/events.js';
import type { Operation } from '../../control/services/operations.js';
import { serviceNameSchema } from '../../control/services/spec.js';
import type { ReplicaView, ServiceDetail, ServiceSummary } from '../../control/services/view.js';
import { BerthError } from '../../errors/catalogue.js';
import { fromHttpError } from '../../errors/http.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { outputOption, printFields, printJson, printTable, type OutputFormat } from '../output.js';
import { addSpecOptions, updateRequest } from '../service-request.js';
import { finish, SERVER_HELP } from './deploy.js';
import { registerServiceLogs } from './service-logs.js';
import { credentialFor, registerServiceAuth } from './service-auth.js';
import { addRolloutOptions, printRollout, registerRolloutCommands, rolloutBody, type RolloutFlags } from './service-rollout.js';

interface ClientOpts {
  server?: string;
  output: OutputFormat;
}

/** Checks a typed service name before any request, so a typo gets the naming rule rather than a 404. */
export function checkServiceName(name: string): string {
  const r = serviceNameSchema.safeParse(name);
  if (!r.success) throw new BerthError('INVALID_ARGUMENT', { detail: `invalid service name "${name}": ${r.error.issues[0]?.message ?? 'invalid'}` });
  return name;
}

export function registerServiceCommands(program: Command, ctx: CliContext): void {
  const service = program.command('service').description('List, show, update, delete, score and inspect deployed services');
  const client = (opts: { server?: string }) => new ApiClient(parseClientSettings(opts, ctx.env));
  const leaf = (name: string, description: string) =>
    service.command(name).description(description).option('--server <url>', SERVER_HELP).addOption(outputOption());

  leaf('list', 'List services: state, ready replicas, scoring URI').action(async (opts: ClientOpts) => {
    const { services } = await client(opts).call<{ services: ServiceSummary[] }>('GET', '/v1/services');
    if (opts.output === 'json') return printJson(ctx, services);
    printTable(ctx, [
      { header: 'NAME', value: (s: ServiceSummary) => s.name },
      { header: 'STATE', value: (s) => s.state },
      { header: 'READY', value: (s) => `${s.ready_replicas}/${s.desired_replicas}`, align: 'right' },
      { header: 'GEN', value: (s) => s.generation, align: 'right' },
      { header: 'UPDATED', value: (s) => s.updated_at },
      { header: 'SCORING URI', value: (s) => s.scoring_uri },
    ], services);
  });

  leaf('show', 'Show a service: state and why, scoring URI, key, config, replicas and their last termination')
    .argument('<name>')
    .action(async (name: string, opts: ClientOpts) => {
      const s = await client(opts).call<ServiceDetail>('GET', `/v1/services/${checkServiceName(name)}`);
      if (opts.output === 'json') return printJson(ctx, s);
      printService(ctx, s);
    });

  const update = leaf('update', 'Change a service: new replicas start, and replace the old ones only once ready').argument('<name>');
  addRolloutOptions(addSpecOptions(update))
    .option('--no-wait', 'return at once with the operation id')
    .action(async (name: string, opts: ClientOpts & RolloutFlags & { wait: boolean }) => {
      const api = client(opts);
      const current = await api.call<ServiceDetail>('GET', `/v1/services/${checkServiceName(name)}`);
      const rollout = rolloutBody(opts, {});
      const body = await updateRequest(update, ctx.cwd, typeof current.spec.source_dir === 'string' ? current.spec.source_dir : undefined, rollout !== undefined);
      const { operation } = rollout === undefined
        ? await api.call<{ operation: Operation }>('PATCH', `/v1/services/${name}`, { json: body })
        : await api.call<{ operation: Operation }>('POST', `/v1/services/${name}/rollout`, { json: { ...rollout, changes: body } });
      await finish(api, ctx, operation, opts);
    });

  leaf('delete', 'Delete a service: stop its replicas, remove its files')
    .argument('<name>')
    .option('--no-wait', 'return at once with the operation id')
    .action(async (name: string, opts: ClientOpts & { wait: boolean }) => {
      const api = client(opts);
      const { operation } = await api.call<{ operation: Operation }>('DELETE', `/v1/services/${checkServiceName(name)}`);
      await finish(api, ctx, operation, opts);
    });

  service.command('run').description('Send one scoring request to the service (through its scoring URI) and print the answer')
    .argument('<name>')
    .option('--data <json>', 'the request body (usually JSON)')
    .option('--data-file <path>', 'read the request body from a file')
    .option('--server <url>', SERVER_HELP)
    .action(async (name: string, opts: { data?: string; dataFile?: string; server?: string }) => {
      if ((opts.data === undefined) === (opts.dataFile === undefined)) throw new BerthError('INVALID_ARGUMENT', { detail: 'give the request body with --data JSON or --data-file PATH (one of them)' });
      const body = opts.data ?? readFileSync(opts.dataFile!, 'utf8');
      const api = client(opts);
      const url = `${api.server}/api/v1/service/${checkServiceName(name)}/score`;
      const authorization = await credentialFor(api, name);
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) } });
      } catch (err) {
        throw api.failed(err);
      }
      const text = await res.text();
      if (res.status >= 400) {
        let parsed: unknown;
        try { parsed = JSON.parse(text); } catch { parsed = { message: `HTTP ${res.status}: ${text.slice(0, 200)}` }; }
        throw fromHttpError(res.status, parsed);
      }
      ctx.out(text);
    });

  leaf('events', 'A service\'s events: state changes, scheduling, starts, restarts, kills, with times')
    .argument('<name>')
    .option('--limit <n>', 'the last N events', '100')
    .action(async (name: string, opts: ClientOpts & { limit: string }) => {
      const { events } = await client(opts).call<{ events: ServiceEvent[] }>('GET', `/v1/services/${checkServiceName(name)}/events`, { query: { limit: opts.limit } });
      if (opts.output === 'json') return printJson(ctx, events);
      printTable(ctx, [
        { header: 'TIME', value: (e: ServiceEvent) => e.time },
        { header: 'TYPE', value: (e) => e.type },
        { header: 'REPLICA', value: (e) => e.replica ?? '-' },
        { header: 'MESSAGE', value: (e) => e.message },
      ], events);
    });

  registerRolloutCommands(leaf, ctx, client, checkServiceName);
  registerServiceLogs(service, ctx);
  registerServiceAuth(service, ctx, checkServiceName);
}

function printService(ctx: CliContext, s: ServiceDetail): void {
  const spec = s.spec as Record<string, unknown>;
  const limit = (v: unknown): string => (v === undefined ? '' : ` (limit ${String(v)})`);
  const scaling = spec.autoscale_enabled === true
    ? `autoscaling ${String(spec.autoscale_min_replicas)}-${String(spec.autoscale_max_replicas)} at ${String(spec.autoscale_target_utilization)}% target utilization`
    : `${String(spec.num_replicas ?? spec.replicas)} fixed`;
  const models = (spec.models as { name: string; version: number }[]).map((m) => `${m.name}:${m.version}`).join(', ') || '-';
  const op = s.operation;
  printFields(ctx, [
    ['service', s.name],
    ['state', s.state],
    ['reason', s.reason || '-'],
    ['replicas', `${s.ready_replicas} ready / ${s.desired_replicas} desired; ${scaling}`],
    ['traffic', trafficLine(s)],
    ['generation', s.generation],
    ['scoring URI', s.scoring_uri],
    ['swagger URI', s.swagger_uri],
    ['auth', s.auth === 'key' ? `key (primary ${s.keys.primary}; berth service keys ${s.name})` : s.auth === 'token' ? `token (berth service token ${s.name})` : 'none'],
    ['entry script', `${String(spec.entry_script)}${spec.source_dir === undefined ? '' : ` in ${String(spec.source_dir)}`} (snapshot taken at deploy)`],
    ['models', models],
    ['resources', `cpu ${String(spec.cpu_cores)}${limit(spec.cpu_cores_limit)}, memory_gb ${String(spec.memory_gb)}${limit(spec.memory_gb_limit)}, gpu ${String(spec.gpu_cores)}`],
    ['scoring', `timeout ${String(spec.scoring_timeout_ms)} ms, ${String(spec.replica_max_concurrent_requests)} request(s) at once per replica, wait up to ${String(spec.max_request_wait_time)} ms`],
    ['liveness', `every ${String(spec.period_seconds)} s, timeout ${String(spec.timeout_seconds)} s, restart after ${String(spec.failure_threshold)} failures`],
    ['operation', op === undefined ? '-' : `${op.kind} ${op.id} ${op.status}${op.error === undefined ? '' : `: ${op.error.message}`}`],
    ...(spec.capture_failures === true ? [['capture', `failed requests, at most ${String(spec.capture_max_requests)} / ${String(spec.capture_max_mb)} MiB, redacting authorization${(spec.capture_redact as string[]).map((n) => `, ${n}`).join('')} (berth service requests ${s.name})`] as const] : []),
  ]);
  if (s.rollout !== undefined) {
    ctx.out('');
    printRollout(ctx, s.rollout);
  }
  if (s.replicas.length === 0) return;
  ctx.out('');
  printTable(ctx, [
    { header: 'REPLICA', value: (r: ReplicaView) => r.id },
    { header: 'GEN', value: (r) => r.generation, align: 'right' },
    { header: 'STATE', value: (r) => r.state },
    { header: 'RESTARTS', value: (r) => r.restarts, align: 'right' },
    { header: 'PID', value: (r) => r.pid ?? '-', align: 'right' },
    { header: 'MEMORY', value: (r) => `${r.memory.limit_mb === undefined ? 'no limit' : `${r.memory.limit_mb} MB`} (${r.memory.enforcement})` },
    { header: 'LAST TERMINATION', value: (r) => r.last_termination === undefined ? '-' : `${r.last_termination.at} ${r.last_termination.message}` },
  ], s.replicas);
  for (const r of s.replicas) if (r.last_init_error !== undefined) ctx.out(`last init() error of ${r.id}: ${r.last_init_error}`);
  for (const r of s.replicas) if (r.waiting !== undefined) ctx.out(`${r.id} is waiting: ${r.waiting}`);
  for (const r of s.replicas) {
    if (r.phase === undefined) continue;
    const secs = Math.max(0, Math.round((Date.now() - Date.parse(r.phase.since)) / 1000));
    ctx.out(`${r.id} is starting: ${r.phase.name} for ${secs} s${r.phase.last_output === undefined ? '' : `; last output: ${r.phase.last_output}`}`);
  }
}

/** Live figures from the gateway: rate, latency percentiles, utilization, in flight and queued. */
function trafficLine(s: ServiceDetail): string {
  const t = s.traffic;
  const util = t.utilization === null ? 'utilization -' : `utilization ${t.utilization}%`;
  const now = `${t.in_flight} in flight, ${t.queued} queued`;
  if (t.requests === 0) return `no requests in the last ${Math.round(t.window_s) || 60} s; ${util}; ${now}`;
  return `${t.request_rate} req/s over the last ${Math.round(t.window_s)} s, p50 ${t.latency_p50_ms} ms, p99 ${t.latency_p99_ms} ms; ${util}; ${now}`;
}
