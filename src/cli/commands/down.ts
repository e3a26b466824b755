// `berth down`: stops the control plane of $BERTH_HOME (SIGTERM, then waits for it to exit).
import type { Command } from 'commander';
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { resolveHome } from '../../core/home.js';
import { isAlive, readRunFile, releaseRunFile } from '../../control/runfile.js';
import { parseOrThrow } from '../../core/parse-settings.js';
import { timerSeconds } from '../../core/durations.js';
import { fsPathSchema } from '../../core/fs-path.js';
import type { CliContext } from '../context.js';

const schema = z
  .object({
    home: fsPathSchema,
    timeoutS: z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'must be a number of seconds').transform(Number)]).pipe(timerSeconds(z.number().positive())),
  })
  .strict();

export function registerDown(program: Command, ctx: CliContext): void {
  program
    .command('down')
    .description('Stop the berth control plane of $BERTH_HOME; running uploads get a few seconds, nothing half-written is kept')
    .option('--home <dir>', 'where berth keeps its state (default $BERTH_HOME, else ~/.berth)')
    .option('--timeout-s <s>', 'how long to wait for it to exit', '30')
    .action(async (opts: { home?: string; timeoutS: string }) => {
      const { home, timeoutS } = parseOrThrow(schema, { home: resolveHome(opts.home, ctx.env), timeoutS: opts.timeoutS }, { home: '--home', timeoutS: '--timeout-s' });
      const info = readRunFile(home);
      // Not running is what `down` wants: say so and succeed, so scripts can call it unconditionally.
      if (info === undefined) {
        ctx.out(`no berth control plane is running for ${home}`);
        return;
      }
      if (!isAlive(info)) {
        releaseRunFile(home, info.pid);
        ctx.out(`no berth control plane is running for ${home} (removed the run file of exited pid ${info.pid})`);
        return;
      }
      process.kill(info.pid, 'SIGTERM');
      const deadline = Date.now() + timeoutS * 1000;
      while (isAlive(info)) {
        if (Date.now() > deadline) throw new BerthError('CONTROL_PLANE_STOP_TIMEOUT', { pid: info.pid, timeoutS });
        await new Promise((r) => setTimeout(r, 50));
      }
      ctx.out(`stopped the berth control plane${info.url === undefined ? '' : ` at ${info.url}`} (pid ${info.pid})`);
    });
}
