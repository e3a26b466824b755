// `berth image ...`: make the base image (here, no control plane needed), build images, and list, show, read logs of and prune them.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveHome } from '../../core/home.js';
import { BerthError } from '../../errors/catalogue.js';
import { fromHttpError } from '../../errors/http.js';
import type { BuiltImage, ImageView, PruneReport } from '../../images/index.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { readAll, seconds } from '../env-wait.js';
import { formatBytes, outputOption, printFields, printJson, printTable, type OutputFormat } from '../output.js';

interface ClientOpts {
  server?: string;
  output: OutputFormat;
}

const SERVER_HELP = 'control plane URL (default $BERTH_SERVER, else the one running for $BERTH_HOME, else http://127.0.0.1:7070)';
const tagPath = (tag: string): string => `/v1/images/${encodeURIComponent(tag)}`;

export function registerImageCommands(program: Command, ctx: CliContext): void {
  const image = program.command('image').description('Container images: berth\'s base image, images built from an environment and a source folder, housekeeping');
  const client = (opts: ClientOpts): ApiClient => new ApiClient(parseClientSettings(opts, ctx.env));
  const leaf = (name: string, description: string): Command =>
    image.command(name).description(description).option('--server <url>', SERVER_HELP).addOption(outputOption());

  image.command('base')
    .description('Make berth/base:bookworm (Debian minbase + python3 + venv, with debootstrap, as root; about a minute) unless it exists')
    .option('--force', 'make it again even if it exists')
    .option('--mirror <url>', 'Debian mirror (default: the one apt uses on this machine)')
    .option('--home <dir>', 'where its log goes (default $BERTH_HOME, else ~/.berth)')
    .addOption(outputOption())
    .action(async (opts: { force?: boolean; mirror?: string; home?: string; output: OutputFormat }) => {
      // Loaded here: the Docker client is not needed (nor loaded) by any other command.
      const { DockerConnection } = await import('../../images/docker.js');
      const { makeBaseImage } = await import('../../images/base-image.js');
      const home = resolveHome(opts.home, ctx.env);
      const json = opts.output === 'json';
      const result = await makeBaseImage(new DockerConnection(ctx.env), home, {
        force: opts.force === true, env: ctx.env, signal: new AbortController().signal,
        ...(opts.mirror === undefined ? {} : { mirror: opts.mirror }),
        ...(json ? {} : { onStep: (s: string) => ctx.err(`  ${s}`) }),
      });
      if (json) return printJson(ctx, result);
      ctx.out(result.skipped
        ? `${result.tag} is present (${result.id.slice(7, 19)}, ${formatBytes(result.size)}): nothing to do (--force makes it again)`
        : `${result.tag} made in ${seconds(result.ms)} from ${result.mirror ?? '?'} (${result.id.slice(7, 19)}, ${formatBytes(result.size)})`);
    });

  leaf('build', 'Make the image of an environment and a source folder: reused, pulled from the registry, or built (only the layers whose inputs changed) and pushed')
    .option('--env <name[:version]>', 'a berth environment (default: none, the base\'s python3)')
    .requiredOption('--source-dir <dir>', 'the folder copied to /var/azureml-app')
    .option('--service <name>', 'the service it is for: its previous image explains a rebuild')
    .option('--registry <host:port[/namespace]>', 'instead of the control plane\'s registry')
    .option('--base-image <name>', 'a base with python3 instead of the control plane\'s')
    .action(async (opts: ClientOpts & { env?: string; sourceDir: string; service?: string; registry?: string; baseImage?: string }) => {
      const json = opts.output === 'json';
      const body = {
        source_dir: resolve(ctx.cwd, opts.sourceDir),
        ...(opts.env === undefined ? {} : { environment: opts.env }),
        ...(opts.service === undefined ? {} : { service: opts.service }),
        ...(opts.registry === undefined ? {} : { registry: opts.registry }),
        ...(opts.baseImage === undefined ? {} : { base_image: opts.baseImage }),
      };
      const started = performance.now();
      const built = await followBuild(await client(opts).postStream('/v1/images/build', body), json ? () => undefined : (s) => ctx.err(`  ${s}`));
      if (json) return printJson(ctx, built);
      ctx.err(`${built.outcome === 'built' ? `built ${built.layersBuilt.join(', ')} in ${seconds(performance.now() - started)}: ${built.why ?? ''}` : built.outcome === 'pulled' ? 'pulled from the registry (nothing built)' : 'present already (nothing built)'}`);
      ctx.out(built.tag);
      ctx.out(built.ref);
    });

  leaf('list', 'List images: tag, kind, state, whether the engine has it, size, how it came, when last used')
    .action(async (opts: ClientOpts) => {
      const { images } = await client(opts).call<{ images: ImageView[] }>('GET', '/v1/images');
      if (opts.output === 'json') return printJson(ctx, images);
      printTable(ctx, [
        { header: 'TAG', value: (i: ImageView) => i.tag },
        { header: 'KIND', value: (i) => i.kind },
        { header: 'STATE', value: (i) => i.state },
        { header: 'HERE', value: (i) => (i.present ? 'yes' : 'no') },
        { header: 'SIZE', value: (i) => (i.size === undefined ? '-' : formatBytes(i.size)), align: 'right' },
        { header: 'OUTCOME', value: (i) => i.outcome ?? '-' },
        { header: 'BUILD', value: (i) => seconds(i.build_ms), align: 'right' },
        { header: 'LAST USED', value: (i) => i.last_used_at },
      ], images);
    });

  leaf('show', 'Show an image: ref, digest, inputs, lock, why it was built, its error')
    .argument('<tag>', 'the tag, or the first characters of its hash')
    .action(async (tag: string, opts: ClientOpts) => {
      const i = await client(opts).call<ImageView>('GET', tagPath(tag));
      if (opts.output === 'json') return printJson(ctx, i);
      printFields(ctx, [
        ['tag', i.tag], ['kind', i.kind], ['state', i.state], ['here', i.present ? 'yes' : 'no'], ['ref', i.ref ?? '-'], ['digest', i.digest ?? '-'],
        ['image id', i.image_id ?? '-'], ['size', i.size === undefined ? '-' : formatBytes(i.size)], ['from', i.parent ?? '-'], ['outcome', i.outcome ?? '-'],
        ['build time', seconds(i.build_ms)], ['why built', i.why ?? '-'], ['service', i.service ?? '-'], ['created', i.created_at], ['last used', i.last_used_at],
        ['packages', i.lock === undefined ? '-' : i.lock.packages.map((p) => `${p.name}==${p.version}`).join(' ') || '(none)'], ['log', i.log],
      ]);
      if (i.error !== undefined) ctx.out(`\n${i.error.message}\n  fix: ${i.error.fix}`);
    });

  image.command('logs')
    .description('Print the log of an image\'s last build (the Dockerfile, every step\'s output, pushes and pulls)')
    .argument('<tag>', 'the tag, or the first characters of its hash')
    .option('--tail <n>', 'only the last N lines')
    .option('--server <url>', SERVER_HELP)
    .action(async (tag: string, opts: { server?: string; tail?: string }) => {
      if (opts.tail !== undefined && !/^[1-9]\d{0,6}$/.test(opts.tail)) throw new BerthError('INVALID_ARGUMENT', { detail: `--tail takes a number of lines, not "${opts.tail}"` });
      const text = await readAll(await client({ ...opts, output: 'table' }).download(`${tagPath(tag)}/log`, { tail: opts.tail }));
      ctx.out(text.replace(/\n$/, ''));
    });

  leaf('prune', 'Remove the images no service generation uses (the base, and layers under kept images, stay)')
    .action(async (opts: ClientOpts) => {
      const report = await client(opts).call<PruneReport>('POST', '/v1/images/prune');
      if (opts.output === 'json') return printJson(ctx, report);
      for (const r of report.removed) ctx.out(`removed ${r.tag} (${r.kind}${r.size === undefined ? `, ${r.state}` : `, ${formatBytes(r.size)}`})`);
      ctx.out(`${report.removed.length} removed, ${report.kept.length} kept, ${formatBytes(report.freed_bytes)} freed`);
    });
}

/** Reads the build's JSON lines: steps go to `onStep`; the last line is the image, or the error to throw. */
async function followBuild(stream: AsyncIterable<Buffer>, onStep: (step: string) => void): Promise<BuiltImage> {
  let pending = '';
  let result: BuiltImage | undefined;
  const take = (text: string): void => {
    if (text.trim() === '') return;
    const line = JSON.parse(text) as { step?: string; image?: BuiltImage; error?: { code: string; message: string; fix: string } };
    if (line.step !== undefined) onStep(line.step);
    if (line.image !== undefined) result = line.image;
    if (line.error !== undefined) throw fromHttpError(500, line.error);
  };
  for await (const chunk of stream) {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) take(l);
  }
  take(pending);
  if (result === undefined) throw new BerthError('CONTROL_PLANE_REQUEST_FAILED', { server: '', detail: 'the build\'s answer ended before its result' });
  return result;
}
