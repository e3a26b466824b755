// `berth serve --standby`: a replica process started ahead of need; it loads berth serve, then waits for its run on stdin.
import { Command } from 'commander';
import type { CliContext } from '../context.js';

/** One line on standard input turns a standby into a replica's run: its serve flags, environment and working directory. */
export interface StandbyHandover {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/**
 * Loads what a run needs (the inference server, its HTTP side and metrics: most of a replica's start-up), reads one
 * handover line, takes on its environment and directory, then runs `berth serve` with its flags. Standard input ending
 * first means the control plane went away: the standby leaves quietly.
 */
export async function runStandby(ctx: CliContext, register: (program: Command, ctx: CliContext) => void): Promise<void> {
  const line = readLine();
  await Promise.all([import('../../inference/serve.js'), import('../../inference/http/server.js'), import('../../inference/metrics.js')]);
  const handover = parseHandover(await line);
  if (handover === undefined) process.exit(0);
  process.chdir(handover.cwd);
  for (const name of Object.keys(process.env)) if (!(name in handover.env)) delete process.env[name];
  Object.assign(process.env, handover.env);
  // Code that reads the command line (serve --env restarts itself with it) sees the run's own.
  process.argv = [process.argv[0]!, process.argv[1]!, ...handover.args];
  const runCtx: CliContext = { ...ctx, env: Object.freeze({ ...process.env }), cwd: handover.cwd };
  const program = new Command('berth').exitOverride();
  register(program, runCtx);
  await program.parseAsync(process.argv);
}

const MAX_HANDOVER_CHARS = 4 << 20;

/** The first line of standard input, or undefined when it ends without one; stdin is let go either way. */
function readLine(): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const stdin = process.stdin;
    const done = (value: string | undefined): void => {
      stdin.removeAllListeners('data');
      stdin.removeAllListeners('end');
      stdin.on('error', () => undefined);
      stdin.destroy();
      resolve(value);
    };
    stdin.setEncoding('utf8');
    stdin.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) done(text.slice(0, nl));
      else if (text.length > MAX_HANDOVER_CHARS) done(undefined); // not a control plane writing
    });
    stdin.on('end', () => done(undefined));
    stdin.on('error', () => done(undefined));
  });
}

function parseHandover(line: string | undefined): StandbyHandover | undefined {
  if (line === undefined) return undefined;
  const h = JSON.parse(line) as StandbyHandover;
  if (!Array.isArray(h.args) || typeof h.cwd !== 'string' || typeof h.env !== 'object' || h.env === null) throw new Error('berth serve --standby: a malformed handover line');
  return h;
}
