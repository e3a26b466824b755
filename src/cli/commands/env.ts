// `berth env ...`: create, list, show, build and read the build log of environments through the control plane's API.
import type { Command } from 'commander';
import { parseEnvRef, type EnvironmentView } from '../../control/environments/env-schema.js';
import { checkModelName } from '../../control/model-schema.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { buildCreateRequest, type EnvCreateFlags } from '../env-request.js';
import { label, readAll, seconds, throwIfFailed, versionPath, waitForBuild } from '../env-wait.js';
import { formatBytes, outputOption, printFields, printJson, printTable, type OutputFormat } from '../output.js';

interface ClientOpts {
  server?: string;
  output: OutputFormat;
}

const SERVER_HELP = 'control plane URL (default $BERTH_SERVER, else the one running for $BERTH_HOME, else http://127.0.0.1:7070)';
const collect = (v: string, all: string[]): string[] => [...all, v];

export function registerEnvCommands(program: Command, ctx: CliContext): void {
  const env = program.command('env').description('Environments: Python (virtualenv + pip) or JS (npm) runtimes, built once per spec and reused');
  const client = (opts: ClientOpts): ApiClient => new ApiClient(parseClientSettings(opts, ctx.env));
  const leaf = (name: string, description: string): Command =>
    env.command(name).description(description).option('--server <url>', SERVER_HELP).addOption(outputOption());

  leaf('create', 'Create the next version of an environment and build it; prints NAME:VERSION')
    .requiredOption('--name <name>', 'environment name: letters, digits, -, _ and ., up to 255')
    .option('--file <path>', 'requirements.txt, a conda YAML (.yml/.yaml: python version and pip section) or a package.json')
    .option('--python <path>', 'interpreter the virtualenv is made from (default python3 on the control plane\'s PATH)')
    .option('--system-site-packages', 'let the environment see the interpreter\'s installed packages')
    .option('--var <name=value>', 'an environment variable replicas get (repeatable)', collect, [] as string[])
    .option('--index-url <url>', 'pip index to use instead of the default')
    .option('--extra-index-url <url>', 'another pip index (repeatable)', collect, [] as string[])
    .option('--find-links <dir|url>', 'a folder or page of wheels pip may install from (repeatable)', collect, [] as string[])
    .option('--no-index', 'do not use any index: only --find-links and the system site packages')
    .option('--description <text>', 'what this version is', '')
    .option('--no-wait', 'return once the version exists; follow the build with berth env show')
    .action(async (opts: ClientOpts & EnvCreateFlags & { wait: boolean }) => {
      const request = buildCreateRequest(opts, ctx.cwd);
      const api = client(opts);
      const { environment: v, created } = await api.call<{ environment: EnvironmentView; created: boolean }>('POST', '/v1/environments', { json: request });
      const json = opts.output === 'json';
      if (!json) {
        ctx.out(label(v));
        if (!created) ctx.err(`${label(v)} already has this spec: nothing new was created`);
      }
      const done = opts.wait ? await waitForBuild(api, ctx, v, !json) : v;
      if (json) printJson(ctx, { environment: done, created });
      throwIfFailed(done);
    });

  leaf('list', 'List environment versions with their build state')
    .option('--name <name>', 'only this environment')
    .action(async (opts: ClientOpts & { name?: string }) => {
      if (opts.name !== undefined) checkModelName(opts.name);
      const { environments } = await client(opts).call<{ environments: EnvironmentView[] }>('GET', '/v1/environments', { query: { name: opts.name } });
      if (opts.output === 'json') return printJson(ctx, environments);
      printTable(ctx, [
        { header: 'NAME', value: (e: EnvironmentView) => e.name },
        { header: 'VERSION', value: (e) => e.version, align: 'right' },
        { header: 'KIND', value: (e) => e.spec.build.kind },
        { header: 'STATE', value: (e) => e.state },
        { header: 'BUILDS', value: (e) => e.builds, align: 'right' },
        { header: 'SIZE', value: (e) => (e.size === undefined ? '-' : formatBytes(e.size)), align: 'right' },
        { header: 'DIGEST', value: (e) => e.digest.slice(0, 12) },
        { header: 'CREATED', value: (e) => e.created_at },
      ], environments);
    });

  leaf('show', 'Show an environment version (the latest unless NAME:VERSION): state, digest, size, build time, spec')
    .argument('<environment>', 'NAME or NAME:VERSION')
    .action(async (ref: string, opts: ClientOpts) => {
      const v = await client(opts).call<EnvironmentView>('GET', versionPath(parseEnvRef(ref)));
      if (opts.output === 'json') return printJson(ctx, v);
      printFields(ctx, describe(v));
      if (v.error !== undefined) ctx.out(`\n${v.error.message}`);
    });

  leaf('build', 'Build an environment version unless it is built (retries a failed build)')
    .argument('<environment>', 'NAME or NAME:VERSION')
    .option('--no-wait', 'return once the build started')
    .action(async (ref: string, opts: ClientOpts & { wait: boolean }) => {
      const api = client(opts);
      const v = await api.call<EnvironmentView>('POST', `${versionPath(parseEnvRef(ref))}/build`);
      const json = opts.output === 'json';
      if (!json && v.state === 'Built') ctx.out(`${label(v)} is built (digest ${v.digest.slice(0, 12)}, ${v.builds} build(s)): nothing to do`);
      const done = opts.wait ? await waitForBuild(api, ctx, v, !json) : v;
      if (json) printJson(ctx, done);
      throwIfFailed(done);
    });

  env.command('logs')
    .description('Print the build log of an environment version (its last build)')
    .argument('<environment>', 'NAME or NAME:VERSION')
    .option('--tail <n>', 'only the last N lines')
    .option('--server <url>', SERVER_HELP)
    .action(async (ref: string, opts: { server?: string; tail?: string }) => {
      if (opts.tail !== undefined && !/^[1-9]\d{0,6}$/.test(opts.tail)) throw new BerthError('INVALID_ARGUMENT', { detail: `--tail takes a number of lines, not "${opts.tail}"` });
      const text = await readAll(await client({ ...opts, output: 'table' }).download(`${versionPath(parseEnvRef(ref))}/log`, { tail: opts.tail }));
      ctx.out(text.replace(/\n$/, ''));
    });
}

function describe(v: EnvironmentView): (readonly [string, string | number])[] {
  const b = v.spec.build;
  const fields: (readonly [string, string | number])[] = [
    ['environment', label(v)],
    ['state', v.state],
    ['digest', v.digest],
    ['builds', `${v.builds} (of this digest, across versions and environments)`],
    ['size', v.size === undefined ? '-' : `${formatBytes(v.size)} (${v.size} bytes)`],
    ['build time', seconds(v.build_ms)],
    ['built at', v.built_at ?? '-'],
    ['created', v.created_at],
    ['path', v.path],
  ];
  if (b.kind === 'python') {
    fields.push(['python', v.python ?? '-'], ['interpreter', `${b.interpreter.implementation} ${b.interpreter.version} (${b.interpreter.executable})`]);
    fields.push(['site packages', b.system_site_packages ? 'system site packages visible' : 'isolated'], ['source', v.spec.source]);
    fields.push(['requirements', b.requirements.join(' ') || '-']);
    const pip = [b.pip.no_index ? '--no-index' : '', b.pip.index_url ? `--index-url ${b.pip.index_url}` : '', ...b.pip.extra_index_urls.map((u) => `--extra-index-url ${u}`), ...b.pip.find_links.map((f) => `--find-links ${f}`)].filter(Boolean);
    fields.push(['pip options', pip.join(' ') || '-']);
  } else {
    fields.push(['node', b.node_version], ['dependencies', Object.keys((b.package_json.dependencies as Record<string, string> | undefined) ?? {}).join(' ') || '-']);
  }
  fields.push(['variables', Object.entries(v.spec.variables).map(([k, val]) => `${k}=${val}`).join(' ') || '-'], ['description', v.description || '-']);
  return fields;
}
