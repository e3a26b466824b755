// The VS Code attach configuration of `berth service debug --inspect`: path mappings from the user's source folder to the snapshot that runs.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError } from '../errors/catalogue.js';

export interface AttachTarget {
  readonly service: string;
  readonly python: boolean;
  readonly port: number;
  /** The folder the service was deployed from (its spec's source_dir): where the user sets breakpoints. */
  readonly userSourceDir: string;
  /** The snapshot's copy of it, which the local run executes. */
  readonly snapshotSourceDir: string;
}

export type LaunchConfiguration = Readonly<Record<string, unknown>> & { readonly name: string };

/**
 * debugpy (VS Code's Python Debugger, type "debugpy") maps paths with pathMappings; Node's debugger with
 * localRoot/remoteRoot. Either way a breakpoint set in the user's own file binds in the snapshot's copy.
 */
export function attachConfiguration(t: AttachTarget): LaunchConfiguration {
  const name = `berth: attach to ${t.service}`;
  if (t.python) {
    return {
      name, type: 'debugpy', request: 'attach', connect: { host: '127.0.0.1', port: t.port },
      pathMappings: [{ localRoot: t.userSourceDir, remoteRoot: t.snapshotSourceDir }],
    };
  }
  return { name, type: 'node', request: 'attach', address: '127.0.0.1', port: t.port, localRoot: t.userSourceDir, remoteRoot: t.snapshotSourceDir };
}

/**
 * Puts the configuration into a launch.json: created when missing, else merged (a configuration of the same name is
 * replaced, the others kept). VS Code's files may hold comments and trailing commas; they are read, but not kept.
 */
export function writeLaunchJson(path: string, config: LaunchConfiguration): 'created' | 'updated' {
  let doc: { version?: unknown; configurations?: unknown } = { version: '0.2.0', configurations: [] };
  const existed = existsSync(path);
  if (existed) {
    try {
      doc = JSON.parse(stripJsonComments(readFileSync(path, 'utf8'))) as typeof doc;
    } catch (err) {
      throw new BerthError('INVALID_ARGUMENT', { detail: `--launch-json ${path}: cannot read it as JSON (${(err as Error).message}); fix it or give another path` });
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (doc.configurations !== undefined && !Array.isArray(doc.configurations))) {
      throw new BerthError('INVALID_ARGUMENT', { detail: `--launch-json ${path}: not a launch.json (an object with a "configurations" list)` });
    }
  }
  const others = ((doc.configurations as unknown[] | undefined) ?? []).filter((c) => (c as { name?: unknown } | null)?.name !== config.name);
  const out = { ...doc, version: doc.version ?? '0.2.0', configurations: [...others, config] };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.berth-tmp`;
  writeFileSync(tmp, `${JSON.stringify(out, null, 2)}\n`);
  renameSync(tmp, path);
  return existed ? 'updated' : 'created';
}

/** JSON with comments (// and /* *\/) and trailing commas, as VS Code writes it, to plain JSON; strings are left alone. */
export function stripJsonComments(text: string): string {
  const withoutComments = scan(text, (t, i) => {
    if (t[i] === '/' && t[i + 1] === '/') { const nl = t.indexOf('\n', i); return { skip: (nl < 0 ? t.length : nl) - i }; }
    if (t[i] === '/' && t[i + 1] === '*') { const end = t.indexOf('*/', i + 2); return { skip: (end < 0 ? t.length : end + 2) - i }; }
    return undefined;
  });
  return scan(withoutComments, (t, i) => {
    if (t[i] !== ',') return undefined;
    TRAILING.lastIndex = i + 1;
    return TRAILING.test(t) ? { skip: 1 } : undefined;
  });
}

/** What follows a trailing comma: only white space, then the end of an object or list. */
const TRAILING = /\s*[}\]]/y;

/** Copies `text`, strings verbatim; elsewhere `drop` may skip characters. */
function scan(text: string, drop: (t: string, i: number) => { skip: number } | undefined): string {
  let out = '';
  for (let i = 0; i < text.length;) {
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const d = drop(text, i);
    if (d !== undefined) { i += d.skip; continue; }
    out += text[i];
    i++;
  }
  return out;
}
