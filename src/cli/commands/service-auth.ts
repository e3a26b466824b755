// `berth service keys | regen-key | token`: a service's scoring credentials; and the credential `service run` sends.
import type { Command } from 'commander';
import { parseDuration } from '../../control/settings.js';
import { BerthError } from '../../errors/catalogue.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';
import { outputOption, printFields, printJson, type OutputFormat } from '../output.js';
import { SERVER_HELP } from './deploy.js';

interface Keys {
  auth: 'key' | 'token' | 'none';
  primary_key: string;
  secondary_key: string;
}

interface Token {
  access_token: string;
  token_type: string;
  expires_on: string;
  refresh_after: string;
}

interface Opts {
  server?: string;
  output: OutputFormat;
}

/** The `Authorization` header value for scoring `name`: its primary key, a fresh token, or none. */
export async function credentialFor(api: ApiClient, name: string): Promise<string | undefined> {
  const keys = await api.call<Keys>('GET', `/v1/services/${name}/keys`);
  if (keys.auth === 'key') return `Bearer ${keys.primary_key}`;
  if (keys.auth === 'token') return `Bearer ${(await api.call<Token>('POST', `/v1/services/${name}/token`, { json: {} })).access_token}`;
  return undefined;
}

export function registerServiceAuth(service: Command, ctx: CliContext, checkName: (name: string) => string): void {
  const client = (opts: { server?: string }) => new ApiClient(parseClientSettings(opts, ctx.env));
  const printKeys = (k: Keys, opts: Opts): void => {
    if (opts.output === 'json') return printJson(ctx, k);
    printFields(ctx, [['auth', k.auth], ['primary key', k.primary_key], ['secondary key', k.secondary_key]]);
    if (k.auth !== 'key') ctx.out(`(the service uses ${k.auth} auth: keys are not accepted until it is switched to key auth)`);
  };

  service.command('keys').description('Show the service\'s primary and secondary scoring keys (send one as Authorization: Bearer <key>)')
    .argument('<name>').option('--server <url>', SERVER_HELP).addOption(outputOption())
    .action(async (name: string, opts: Opts) => printKeys(await client(opts).call<Keys>('GET', `/v1/services/${checkName(name)}/keys`), opts));

  service.command('regen-key').description('Replace the primary or the secondary key; the old one stops working at once')
    .argument('<name>').requiredOption('--key <which>', 'primary or secondary').option('--server <url>', SERVER_HELP).addOption(outputOption())
    .action(async (name: string, opts: Opts & { key: string }) => {
      if (opts.key !== 'primary' && opts.key !== 'secondary') throw new BerthError('INVALID_ARGUMENT', { detail: `--key must be primary or secondary, not "${opts.key}"` });
      printKeys(await client(opts).call<Keys>('POST', `/v1/services/${checkName(name)}/keys/regenerate`, { json: { key: opts.key } }), opts);
    });

  service.command('token').description('Issue a short-lived token for a service with token auth (send it as Authorization: Bearer <token>)')
    .argument('<name>').option('--lifetime <duration>', 'how long it is valid: 3600, 30m, 12h (default and most 12h)').option('--server <url>', SERVER_HELP).addOption(outputOption())
    .action(async (name: string, opts: Opts & { lifetime?: string }) => {
      const ms = opts.lifetime === undefined ? undefined : parseDuration(opts.lifetime);
      if (ms !== undefined && ms < 1000) throw new BerthError('INVALID_ARGUMENT', { detail: `--lifetime must be at least 1 s, not "${opts.lifetime}"` });
      if (opts.lifetime !== undefined && ms === undefined) throw new BerthError('INVALID_ARGUMENT', { detail: `--lifetime "${opts.lifetime}" is not a duration: write 3600, 30m or 12h` });
      const body = ms === undefined ? {} : { lifetime_seconds: Math.floor(ms / 1000) };
      const t = await client(opts).call<Token>('POST', `/v1/services/${checkName(name)}/token`, { json: body });
      if (opts.output === 'json') return printJson(ctx, t);
      printFields(ctx, [['token', t.access_token], ['expires', t.expires_on], ['refresh after', t.refresh_after]]);
    });
}
