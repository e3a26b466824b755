// `berth quickstart`: the main job in one command — control plane, example model, deployment, one scored request — each step shown as the command a user would type.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BerthError, isBerthError } from '../../errors/catalogue.js';
import { shipped } from '../../core/paths.js';
import { resolveHome } from '../../core/home.js';
import { liveRunInfo } from '../../control/runfile.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';

const MODEL = 'quickstart-iris';
const SERVICE = 'quickstart';
const SAMPLE = JSON.stringify({ data: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] });

export function registerQuickstart(program: Command, ctx: CliContext): void {
  program
    .command('quickstart')
    .description('Start the control plane, register an example model, deploy it, score it, and show what to try next')
    .option('--port <n>', 'port for the control plane when quickstart starts it (default 7070; 0 picks a free one)')
    .action(async (opts: { port?: string }) => {
      const step = (n: number, text: string): void => ctx.out(`\n[${n}/4] ${text}`);
      const berth = (args: string[]): string => runBerth(args, ctx);
      const home = resolveHome(undefined, ctx.env);

      step(1, 'control plane');
      if (liveRunInfo(home) === undefined) berth(['up', '--detach', ...(opts.port === undefined ? [] : ['--port', opts.port])]);
      else ctx.out(`running already (home ${home})`);
      const api = new ApiClient(parseClientSettings({}, ctx.env));

      step(2, 'example model');
      const { models } = await api.call<{ models: Array<{ version: number }> }>('GET', '/v1/models', { query: { name: MODEL } });
      const latest = models.at(-1)?.version;
      let version: string;
      if (latest !== undefined) {
        ctx.out(`${MODEL}:${latest} is registered already`);
        version = String(latest);
      } else {
        version = berth(['model', 'register', '--name', MODEL, '--path', exampleModel(home, ctx), '--description', 'berth quickstart: iris classifier']).trim().split(':').pop() ?? '1';
      }

      step(3, `service ${SERVICE}`);
      const existing = await settledService(api);
      const spec = ['--entry-script', shipped('examples/quickstart/score.py'), '--source-dir', shipped('examples/quickstart'), '--model', `${MODEL}:${version}`, '--replicas', '1'];
      if (existing === undefined) berth(['deploy', '--name', SERVICE, ...spec]);
      else if (existing.state === 'Healthy') ctx.out(`${SERVICE} is deployed and Healthy already`);
      else berth(['service', 'update', SERVICE, ...spec]);

      step(4, 'score it through the service');
      berth(['service', 'run', SERVICE, '--data', SAMPLE]);

      ctx.out('\nNext, try:');
      for (const line of [
        `berth service show ${SERVICE}            # state, replicas, scoring URI and key`,
        `berth service logs ${SERVICE} --init     # what init() printed`,
        `berth service events ${SERVICE}          # what happened, with times`,
        `berth replicas --rps 40 --request-seconds 0.05   # how many replicas a load needs`,
        'berth serve --entry-script score.py --model-dir ./model   # run your own script locally',
        `berth service delete ${SERVICE} && berth down   # clean up`,
      ]) ctx.out(`  ${line}`);
    });
}

/** The service, once a control plane that just started has brought its replicas back (Healthy or Failed, 20 s at most); undefined when absent. */
async function settledService(api: ApiClient): Promise<{ state: string } | undefined> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const svc = await api.call<{ state: string }>('GET', `/v1/services/${SERVICE}`).catch((err: unknown) => {
      if (isBerthError(err) && err.status === 404) return undefined;
      throw err;
    });
    if (svc === undefined || svc.state === 'Healthy' || svc.state === 'Failed' || Date.now() > deadline) return svc;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Prints the command, runs it as the user would, echoes its output, and stops the walkthrough when it fails. */
function runBerth(args: string[], ctx: CliContext): string {
  ctx.out(`$ berth ${args.map((a) => (/[\s"'{]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const run = spawnSync(process.execPath, [shipped('bin/berth.js'), ...args], { env: { ...ctx.env }, encoding: 'utf8', timeout: 600_000 });
  const output = run.stdout ?? '';
  if (output !== '') ctx.out(output.trimEnd());
  if (run.status !== 0) {
    if (run.stderr) ctx.err(run.stderr.trimEnd());
    throw new BerthError('QUICKSTART_STEP_FAILED', { command: `berth ${args[0] ?? ''} ${args[1] ?? ''}`.trim() });
  }
  return output;
}

/** A scikit-learn model trained on first use when python3 has scikit-learn; otherwise the bundled pure-Python one. */
function exampleModel(home: string, ctx: CliContext): string {
  const trained = join(home, 'quickstart', 'iris-sklearn');
  if (existsSync(join(trained, 'model.pkl'))) return trained;
  // Replicas run python3 from the PATH, so the pickle must come from the same interpreter.
  const probe = spawnSync('python3', ['-c', 'import sklearn'], { env: { ...ctx.env }, timeout: 60_000 });
  if (probe.status === 0) {
    const train = spawnSync('python3', [shipped('examples/quickstart/train.py'), trained], { env: { ...ctx.env }, encoding: 'utf8', timeout: 120_000 });
    if (train.status === 0) {
      ctx.out(train.stdout.trimEnd());
      return trained;
    }
    ctx.out(`training with scikit-learn failed; using the pure-Python model instead:\n${train.stderr.trimEnd()}`);
  } else {
    ctx.out('python3 has no scikit-learn: using the bundled pure-Python nearest-centroid model');
  }
  return shipped('examples/quickstart/model');
}
