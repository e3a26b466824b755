// Turns `berth env create` flags and the --file into the API's create request, checked before anything is sent.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { BerthError } from '../errors/catalogue.js';
import { createEnvironmentSchema, parseVariables, type CreateEnvironmentRequest } from '../control/environments/env-schema.js';

export interface EnvCreateFlags {
  name: string;
  file?: string;
  python?: string;
  systemSitePackages?: boolean;
  var: string[];
  indexUrl?: string;
  extraIndexUrl: string[];
  findLinks: string[];
  /** commander's reading of `--no-index`: false when it was given. */
  index: boolean;
  description: string;
}

/** Which kind of file: a conda YAML by its extension, a package.json by its name, else a requirements file. */
export function fileKind(path: string): 'conda' | 'package_json' | 'requirements' {
  if (/\.ya?ml$/i.test(path)) return 'conda';
  if (/\.json$/i.test(basename(path))) return 'package_json';
  return 'requirements';
}

export function buildCreateRequest(flags: EnvCreateFlags, cwd: string): CreateEnvironmentRequest {
  const raw: Record<string, unknown> = { name: flags.name, description: flags.description };
  if (flags.file !== undefined) {
    const path = resolve(cwd, flags.file);
    if (!existsSync(path) || !statSync(path).isFile()) throw new BerthError('PATH_NOT_FOUND', { path: flags.file });
    raw[fileKind(path)] = readFileSync(path, 'utf8');
    // Relative paths in the file (a --find-links folder, a local wheel, a file: dependency) are taken from its folder.
    raw.base_dir = dirname(path);
  }
  // A path typed on this command line is relative to where it was typed; a bare name is looked up on the control plane's PATH.
  if (flags.python !== undefined) raw.python = flags.python.includes('/') ? resolve(cwd, flags.python) : flags.python;
  if (flags.systemSitePackages === true) raw.system_site_packages = true;
  const pip: Record<string, unknown> = {};
  if (flags.indexUrl !== undefined) pip.index_url = flags.indexUrl;
  if (flags.extraIndexUrl.length > 0) pip.extra_index_urls = flags.extraIndexUrl;
  if (flags.findLinks.length > 0) pip.find_links = flags.findLinks.map((f) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(f) ? f : resolve(cwd, f)));
  if (!flags.index) pip.no_index = true;
  if (Object.keys(pip).length > 0) raw.pip = pip;
  if (flags.var.length > 0) raw.variables = parseVariables(flags.var);
  const parsed = createEnvironmentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BerthError('INVALID_ARGUMENT', { detail: `invalid ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}` });
  }
  return parsed.data;
}
