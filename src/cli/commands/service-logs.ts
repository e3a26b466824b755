// `berth service logs S [--replica R] [--tail N] [--init] [--previous] [--follow]`: a replica's output, its start-up, or its last crashed run.
import type { Command } from 'commander';
import type { LogChunk } from '../../control/services/logs.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { SERVER_HELP } from './deploy.js';

interface LogOpts {
  replica?: string;
  tail: string;
  init?: boolean;
  previous?: boolean | string;
  follow?: boolean;
  server?: string;
}

const FOLLOW_POLL_MS = 500;

export function registerServiceLogs(service: Command, ctx: CliContext): void {
  service.command('logs').description('Show replica logs: the current run (default), --init its start-up output, --previous its last crashed run')
    .argument('<name>')
    .option('--replica <id|index>', 'one replica (default: all of the service\'s replicas)')
    .option('--tail <n>', 'the last N lines', '5000')
    .option('--init', 'the start-up output (init() tracebacks of crashed replicas are here)')
    .option('--previous [n]', 'the output of a previous run: the one before the current run, or N runs back (up to 5 are kept)')
    .option('-F, --follow', 'keep printing what is appended (Ctrl-C to stop)')
    .option('--server <url>', SERVER_HELP)
    .action(async (name: string, opts: LogOpts) => {
      if (opts.init === true && opts.previous !== undefined) throw new BerthError('INVALID_ARGUMENT', { detail: '--init and --previous cannot be combined: pick one log' });
      if (!/^\d{1,7}$/.test(opts.tail)) throw new BerthError('INVALID_ARGUMENT', { detail: `--tail ${opts.tail}: give a whole number of lines` });
      const kind = opts.init === true ? 'init' : opts.previous !== undefined ? 'previous' : 'current';
      const back = typeof opts.previous === 'string' ? opts.previous : undefined;
      if (back !== undefined && !/^[1-5]$/.test(back)) throw new BerthError('INVALID_ARGUMENT', { detail: `--previous ${back}: give how many runs back, 1 to 5` });
      const api = new ApiClient(parseClientSettings(opts, ctx.env));
      const path = `/v1/services/${encodeURIComponent(name)}/logs`;
      const { logs } = await api.call<{ logs: LogChunk[] }>('GET', path, { query: { replica: opts.replica, kind, tail: opts.tail, ...(back === undefined ? {} : { back }) } });
      const many = logs.length > 1;
      for (const chunk of logs) {
        if (many) ctx.out(`==> replica ${chunk.replica} (${kind}) <==`);
        write(ctx, chunk.text);
        if (many && chunk.text === '') ctx.out('(empty)');
      }
      if (logs.length === 0) ctx.err(`service ${name} has no replicas; name a replaced one with --replica ID`);
      // On stderr, so `berth service logs S | grep ...` stays clean.
      const shown = await api.call<{ state: string }>('GET', `/v1/services/${encodeURIComponent(name)}`).catch(() => undefined);
      if (shown !== undefined && shown.state !== 'Healthy') ctx.err(`hint: service ${name} is ${shown.state}; see what is wrong with: berth diagnose ${name}`);
      if (opts.follow !== true) return;
      const offsets = new Map(logs.map((c) => [c.replica, c.size]));
      for (;;) {
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        for (const [replica, offset] of offsets) {
          const [next] = (await api.call<{ logs: LogChunk[] }>('GET', path, { query: { replica, kind, offset: String(offset) } })).logs;
          if (next === undefined) continue;
          if (next.text !== '') write(ctx, many ? next.text.replace(/^(?=.)/gm, `[${replica}] `) : next.text);
          offsets.set(replica, next.size);
        }
      }
    });
}

/** Prints text that already ends in newlines without adding blank lines. */
function write(ctx: CliContext, text: string): void {
  if (text === '') return;
  ctx.out(text.endsWith('\n') ? text.slice(0, -1) : text);
}
