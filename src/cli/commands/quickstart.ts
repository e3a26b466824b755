// `berth quickstart`: serves the bundled example entry script, scores it once, and shows the next commands.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { shipped } from '../../core/paths.js';
import { createLogger } from '../../core/logger.js';
import { parseServeSettings } from '../../inference/settings.js';
import { startServer } from '../../inference/serve.js';

export function registerQuickstart(program: Command, ctx: CliContext): void {
  program
    .command('quickstart')
    .description('Serve the bundled example model, score it once, and show what to try next')
    .option('--python <path>', 'Python interpreter for the workers', 'python3')
    .action(async (opts: { python: string }) => {
      const entryScript = shipped('examples/quickstart/score.py');
      const modelDir = shipped('examples/quickstart/model');
      ctx.out(`1/3 starting berth serve for ${entryScript}`);
      const settings = parseServeSettings({ entryScript, modelDir, port: 0, python: opts.python }, {});
      // Server logs go to a quiet level so the walkthrough stays readable.
      const log = createLogger({ name: 'berth-quickstart', level: 'warn', destination: 2 });
      const server = await startServer({ settings, log, env: ctx.env, printError: ctx.err });
      const body = JSON.stringify({ data: [[1, 2], [3, 4]] });
      try {
        ctx.out(`    listening on ${server.url}`);
        ctx.out(`2/3 POST ${server.url}/score ${body}`);
        const res = await fetch(`${server.url}/score`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
        ctx.out(`    ${res.status} ${await res.text()}`);
        ctx.out('3/3 stopping the server');
      } finally {
        await server.shutdown();
      }
      ctx.out('');
      ctx.out('Next, serve your own entry script:');
      ctx.out('  berth serve --entry-script score.py --model-dir ./model --worker-count 2');
      ctx.out(`  curl -X POST http://127.0.0.1:5001/score -H 'content-type: application/json' -d '${body}'`);
    });
}
