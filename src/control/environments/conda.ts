// Reads a conda environment YAML: its python constraint and pip section; berth builds virtualenvs, so other conda packages are refused by name.
import { parse } from 'yaml';
import { specInvalid } from './requirements.js';

export interface CondaFile {
  /** The constraint of the `python` dependency as written (`3.11`, `>=3.9,<3.12`), if any. */
  readonly python?: string;
  /** The lines of the `- pip: [...]` section(s), in requirements.txt syntax. */
  readonly pipLines: string[];
  /** The file's `variables:` (conda's environment variables). */
  readonly variables: Record<string, string>;
}

const FILE = 'conda.yml';
/** Keys conda writes that say nothing about packages; anything else is probably a mistake worth naming. */
const KNOWN_KEYS = new Set(['name', 'channels', 'dependencies', 'prefix', 'variables']);

export function parseCondaFile(text: string): CondaFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw specInvalid(FILE, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw specInvalid(FILE, 'the file is not a mapping with a dependencies: list');
  const top = doc as Record<string, unknown>;
  const unknown = Object.keys(top).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0) throw specInvalid(FILE, `unknown key(s) ${unknown.join(', ')}; berth reads name, channels, dependencies and variables`);
  const deps = top.dependencies ?? [];
  if (!Array.isArray(deps)) throw specInvalid(FILE, 'dependencies: must be a list');
  let python: string | undefined;
  const pipLines: string[] = [];
  const unsupported: string[] = [];
  for (const dep of deps) {
    if (typeof dep === 'string') {
      const m = /^\s*(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(.*)$/.exec(dep);
      const name = m?.[1]?.toLowerCase();
      if (name === 'python') python = normalizeConstraint(m?.[2] ?? '');
      else if (name !== 'pip') unsupported.push(dep.trim());
    } else if (typeof dep === 'object' && dep !== null && !Array.isArray(dep) && Object.keys(dep).length === 1 && 'pip' in dep) {
      const section = (dep as { pip: unknown }).pip;
      if (!Array.isArray(section) || !section.every((l) => typeof l === 'string')) throw specInvalid(FILE, 'the pip: section must be a list of requirement lines');
      pipLines.push(...(section as string[]));
    } else {
      unsupported.push(JSON.stringify(dep));
    }
  }
  if (unsupported.length > 0) {
    throw specInvalid(FILE, `conda packages are not supported, only python and the pip: section (berth builds a virtualenv with pip): ${unsupported.join(', ')}; list them under "- pip:" with their PyPI names instead`);
  }
  return { ...(python === undefined || python === '' ? {} : { python }), pipLines, variables: readVariables(top.variables) };
}

function readVariables(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw specInvalid(FILE, 'variables: must be a mapping of NAME: value');
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
}

/** `=3.11`, `3.11`, `==3.11.2`, `>=3.9,<3.12`: spaces dropped; conda's bare `3.11` is `=3.11`. */
function normalizeConstraint(text: string): string {
  const t = text.replace(/\s+/g, '');
  return /^\d/.test(t) ? `=${t}` : t;
}

/**
 * Whether `version` (e.g. `3.11.2`) meets a conda constraint. `=3.11` and `3.11.*` match by prefix, segment-wise
 * (so `=3.1` does not match 3.11); `==` is exact; `>=`, `<=`, `>`, `<`, `!=` compare numerically; `,` is "and".
 */
export function satisfiesConstraint(version: string, constraint: string): boolean {
  const have = segments(version);
  return constraint.split(',').every((part) => {
    const m = /^(==|=|>=|<=|>|<|!=)?(\d+(?:\.\d+)*)(\.\*)?$/.exec(part);
    if (m === null) return false;
    const op = m[1] ?? '=';
    const want = segments(m[2]!);
    if (op === '=' || m[3] !== undefined) return want.every((n, i) => have[i] === n);
    const c = compare(have, want);
    return op === '==' ? c === 0 : op === '!=' ? c !== 0 : op === '>=' ? c >= 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c < 0;
  });
}

export function isValidConstraint(constraint: string): boolean {
  return constraint.split(',').every((part) => /^(==|=|>=|<=|>|<|!=)?\d+(\.\d+)*(\.\*)?$/.test(part));
}

function segments(v: string): number[] {
  return v.split('.').map((s) => Number.parseInt(s, 10)).filter((n) => !Number.isNaN(n));
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
