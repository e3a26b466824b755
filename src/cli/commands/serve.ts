// `berth serve`: runs the inference server for one entry script in the foreground.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerServe(program: Command, _ctx: CliContext): void {
  program.command('serve').description('Serve an entry script over HTTP (POST /score)');
}
