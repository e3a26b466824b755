// Reads requirements.txt lines (also a conda file's pip section): requirements normalised for the cache key, index options apart.
import { isAbsolute, resolve } from 'node:path';
import { BerthError } from '../../errors/catalogue.js';
import type { NormalPipOptions } from './env-schema.js';

export interface ParsedRequirements {
  readonly requirements: string[];
  readonly pip: NormalPipOptions;
}

export function emptyPipOptions(): NormalPipOptions {
  return { extra_index_urls: [], find_links: [], no_index: false, trusted_hosts: [] };
}

/** Which file a line came from, for messages, and where its relative paths are taken from. */
export interface LineSource {
  readonly file: string;
  readonly baseDir?: string;
}

const OPTION_ALIASES: Readonly<Record<string, string>> = {
  '-i': '--index-url', '--index-url': '--index-url', '--extra-index-url': '--extra-index-url',
  '-f': '--find-links', '--find-links': '--find-links', '--no-index': '--no-index', '--trusted-host': '--trusted-host',
};

/**
 * Parses the lines into requirements and pip options, merged into `into`. Includes (-r, -c) and editable installs are
 * refused: the control plane builds from the text it was given, so it never sees the files they point at.
 */
export function parseRequirementLines(lines: readonly string[], source: LineSource, into: NormalPipOptions = emptyPipOptions()): ParsedRequirements {
  const requirements: string[] = [];
  const pip = into;
  for (const line of joinContinuations(lines)) {
    const text = stripComment(line).trim();
    if (text === '') continue;
    if (text.startsWith('-')) {
      applyOption(text, source, pip);
      continue;
    }
    requirements.push(normalizeRequirement(text, source));
  }
  return { requirements: [...new Set(requirements)].sort(), pip };
}

function applyOption(text: string, source: LineSource, pip: NormalPipOptions): void {
  const m = /^(-[a-zA-Z]|--[a-z-]+)(?:[=\s]\s*(.*))?$/.exec(text) ?? /^(-[if])(\S.*)$/.exec(text);
  const option = m === null ? undefined : OPTION_ALIASES[m[1]!];
  const value = m?.[2]?.trim() ?? '';
  if (option === undefined) {
    const hint = /^(-r|-c|--requirement|--constraint)\b/.test(text) ? ': include the lines of that file instead'
      : /^(-e|--editable)\b/.test(text) ? ': build a wheel and give its path, or a --find-links folder' : '';
    throw specInvalid(source.file, `unsupported option line "${text}"${hint}`);
  }
  if (option === '--no-index') {
    if (value !== '') throw specInvalid(source.file, `--no-index takes no value ("${text}")`);
    pip.no_index = true;
    return;
  }
  if (value === '') throw specInvalid(source.file, `${option} needs a value ("${text}")`);
  if (option === '--index-url') pip.index_url = value;
  else if (option === '--extra-index-url') pip.extra_index_urls = sortedUnique([...pip.extra_index_urls, value]);
  else if (option === '--trusted-host') pip.trusted_hosts = sortedUnique([...pip.trusted_hosts, value]);
  else pip.find_links = sortedUnique([...pip.find_links, localPath(value, source)]);
}

/** pip's name rule (PEP 503) and no spaces around operators, so equivalent spellings share one cache key. */
export function normalizeRequirement(text: string, source: LineSource): string {
  if (/^(\.{1,2}\/|\/|file:)/.test(text)) return localPath(text, source);
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/.exec(text);
  if (m === null) throw specInvalid(source.file, `cannot read the requirement "${text}"`);
  const name = m[1]!.toLowerCase().replace(/[-_.]+/g, '-');
  const extras = m[2] === undefined ? '' : `[${m[2].slice(1, -1).split(',').map((e) => e.trim().toLowerCase()).filter(Boolean).sort().join(',')}]`;
  const rest = m[3]!.trim();
  // Markers (`; python_version < "3.9"`), direct URLs (`@ https://…`) and per-line options (`--hash=…`) have meaningful
  // spaces: only collapse them there.
  const cut = rest.search(/[;@]|\s--/);
  const specifier = (cut === -1 ? rest : rest.slice(0, cut)).replace(/\s+/g, '');
  const after = cut === -1 ? '' : ` ${rest.slice(cut).trim().replace(/\s+/g, ' ')}`;
  return `${name}${extras}${specifier}${after}`;
}

/** A local path or file: URL made absolute against the file's folder; URLs pass unchanged. */
function localPath(value: string, source: LineSource): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('file:')) return value;
  const path = value.startsWith('file://') ? value.slice('file://'.length) : value.startsWith('file:') ? value.slice('file:'.length) : value;
  if (isAbsolute(path)) return path;
  if (source.baseDir === undefined) throw specInvalid(source.file, `the relative path "${value}" needs the folder it is relative to (base_dir)`);
  return resolve(source.baseDir, path);
}

function joinContinuations(lines: readonly string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const line of lines) {
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, ' ');
      continue;
    }
    out.push(pending + line);
    pending = '';
  }
  if (pending !== '') out.push(pending);
  return out;
}

/** pip's rule: `#` starts a comment at the start of a line or after whitespace (so URLs with `#egg=` survive). */
function stripComment(line: string): string {
  const m = /(^|\s)#/.exec(line);
  return m === null ? line : line.slice(0, m.index);
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

export function specInvalid(file: string, detail: string): BerthError {
  return new BerthError('ENVIRONMENT_SPEC_INVALID', { file, detail });
}
