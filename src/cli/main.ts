// The `berth` command: builds the commander program, runs it, and turns errors into one line and an exit code.
import { Command, CommanderError } from 'commander';
import { isBerthError } from '../errors/catalogue.js';
import { EXIT_FAILURE, EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import { commandsFor } from './commands/index.js';
import type { CliContext } from './context.js';
import { version } from '../core/version.js';
import { flushLogsSync } from '../core/logger.js';

const ctx: CliContext = {
  env: Object.freeze({ ...process.env }),
  cwd: process.cwd(),
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

// `berth service logs S | head` closes the pipe early: that ends the command quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const program = new Command('berth')
  .description('Deploy machine-learning models as web services, and explain every failure.')
  .version(version)
  .exitOverride()
  .showSuggestionAfterError();
for (const register of await commandsFor(process.argv)) register(program, ctx);

function fail(err: unknown): never {
  flushLogsSync();
  if (isBerthError(err)) {
    ctx.err(`berth: ${err.message}`);
    ctx.err(`  fix: ${err.fix}`);
    process.exit(exitCodeFor(err.code));
  }
  if (err instanceof CommanderError) {
    // commander has already printed its message (or the help/version text).
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  ctx.err(`berth: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(EXIT_FAILURE);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  fail(err);
}
