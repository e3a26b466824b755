// `berth model ...`: register, list, show, download, delete and verify model versions through the control plane's API.
import type { Command } from 'commander';
import { BerthError } from '../../errors/catalogue.js';
import type { ModelVersion, ModelVersionDetail } from '../../control/model-schema.js';
import { checkModelName, descriptionSchema, formatModelRef, parseModelRef, parseTags } from '../../control/model-schema.js';
import type { VerifyReport } from '../../control/registry.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { collectFiles, downloadModel, registerModel } from '../model-transfer.js';
import { formatBytes, formatTags, outputOption, printFields, printJson, printTable, type OutputFormat } from '../output.js';

interface ClientOpts {
  server?: string;
  output: OutputFormat;
}

const versionPath = (m: { name: string; version?: number }) =>
  `/v1/models/${encodeURIComponent(m.name)}/versions/${m.version ?? 'latest'}`;

export function registerModelCommands(program: Command, ctx: CliContext): void {
  const model = program.command('model').description('Register and manage model versions (files kept content-addressed under $BERTH_HOME)');
  const client = (opts: ClientOpts) => new ApiClient(parseClientSettings(opts, ctx.env));
  const leaf = (name: string, description: string) =>
    model
      .command(name)
      .description(description)
      .option('--server <url>', 'control plane URL (default $BERTH_SERVER, else the one running for $BERTH_HOME, else http://127.0.0.1:7070)')
      .addOption(outputOption());

  leaf('register', 'Store a file or folder as the next version of a model; prints NAME:VERSION')
    .requiredOption('--name <name>', 'model name: letters, digits, -, _ and ., up to 255')
    .requiredOption('--path <path>', 'the model file or folder')
    .option('--tag <key=value>', 'a tag (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--description <text>', 'what this version is', '')
    .action(async (opts: ClientOpts & { name: string; path: string; tag: string[]; description: string }) => {
      // Everything is checked before a byte is sent, so a bad input changes nothing.
      checkModelName(opts.name);
      const tags = parseTags(opts.tag);
      if (!descriptionSchema.safeParse(opts.description).success) throw new BerthError('INVALID_ARGUMENT', { detail: 'the description is longer than 4096 characters' });
      const api = client(opts);
      const files = await collectFiles(opts.path);
      const v = await registerModel(api, { name: opts.name, description: opts.description, tags }, files);
      if (opts.output === 'json') return printJson(ctx, v);
      ctx.out(`${v.name}:${v.version}`);
    });

  leaf('list', 'List model versions')
    .option('--name <name>', 'only this model')
    .action(async (opts: ClientOpts & { name?: string }) => {
      if (opts.name !== undefined) checkModelName(opts.name);
      const { models } = await client(opts).call<{ models: ModelVersion[] }>('GET', '/v1/models', { query: { name: opts.name } });
      if (opts.output === 'json') return printJson(ctx, models);
      printTable(ctx, [
        { header: 'NAME', value: (m: ModelVersion) => m.name },
        { header: 'VERSION', value: (m) => m.version, align: 'right' },
        { header: 'FILES', value: (m) => m.file_count, align: 'right' },
        { header: 'SIZE', value: (m) => formatBytes(m.size), align: 'right' },
        { header: 'CREATED', value: (m) => m.created_at },
        { header: 'TAGS', value: (m) => formatTags(m.tags) },
      ], models);
    });

  leaf('show', 'Show a model version (the latest unless NAME:VERSION): files, sizes, digests, tags')
    .argument('<model>', 'NAME or NAME:VERSION')
    .action(async (ref: string, opts: ClientOpts) => {
      const v = await client(opts).call<ModelVersionDetail>('GET', versionPath(parseModelRef(ref)));
      if (opts.output === 'json') return printJson(ctx, v);
      printFields(ctx, [
        ['model', `${v.name}:${v.version}`],
        ['created', v.created_at],
        ['size', `${formatBytes(v.size)} (${v.size} bytes) in ${v.file_count} file(s)`],
        ['tags', formatTags(v.tags) || '-'],
        ['description', v.description || '-'],
      ]);
      ctx.out('');
      printTable(ctx, [
        { header: 'PATH', value: (f: ModelVersionDetail['files'][number]) => f.path },
        { header: 'SIZE', value: (f) => f.size, align: 'right' },
        { header: 'SHA256', value: (f) => f.digest },
      ], v.files);
    });

  leaf('download', 'Download a model version\'s files into a folder (digests checked)')
    .argument('<model>', 'NAME or NAME:VERSION')
    .requiredOption('--to <dir>', 'folder to write the files into (created if missing)')
    .action(async (ref: string, opts: ClientOpts & { to: string }) => {
      const api = client(opts);
      const v = await api.call<ModelVersionDetail>('GET', versionPath(parseModelRef(ref)));
      const written = await downloadModel(api, v, opts.to);
      if (opts.output === 'json') return printJson(ctx, { model: `${v.name}:${v.version}`, files: written });
      ctx.out(`downloaded ${v.name}:${v.version} (${written.length} file(s), ${formatBytes(v.size)}) to ${opts.to}`);
    });

  leaf('delete', 'Delete a model version (refused while a service uses it)')
    .argument('<model>', 'NAME:VERSION')
    .action(async (ref: string, opts: ClientOpts) => {
      const m = parseModelRef(ref, { requireVersion: true });
      await client(opts).call('DELETE', versionPath(m));
      if (opts.output === 'json') return printJson(ctx, { deleted: formatModelRef(m) });
      ctx.out(`deleted ${formatModelRef(m)}`);
    });

  leaf('verify', 'Re-hash stored model files against their sha256 (all versions, or one); exit 1 when any fails')
    .argument('[model]', 'NAME or NAME:VERSION')
    .action(async (ref: string | undefined, opts: ClientOpts) => {
      const route = ref === undefined ? '/v1/verify' : `${versionPath(parseModelRef(ref))}/verify`;
      const report = await client(opts).call<VerifyReport>('POST', route);
      if (opts.output === 'json') printJson(ctx, report);
      else ctx.out(`checked ${report.files} file(s) in ${report.blobs} blob(s), ${formatBytes(report.bytes)}: ${report.problems.length === 0 ? 'all digests match' : `${report.problems.length} problem(s)`}`);
      const first = report.problems[0];
      if (first !== undefined) {
        if (opts.output !== 'json') for (const p of report.problems) ctx.out(`  ${p.problem}: ${p.model} ${p.path} (sha256:${p.digest})`);
        throw new BerthError('STORE_VERIFY_FAILED', { count: report.problems.length, first: `${first.model} ${first.path} (${first.problem})` });
      }
    });
}
