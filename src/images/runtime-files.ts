// What of berth goes into an image's runtime layer: bin/, dist/, package.json, the Python runner, and the production node_modules closure.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

/** One file to ship: `path` is relative to berth's root in the image (forward slashes), `source` where it is read from. */
export interface ShippedFile {
  readonly path: string;
  readonly source: string;
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export interface Closure {
  /** Package folders relative to the root, e.g. `node_modules/zod`, `node_modules/a/node_modules/b`, sorted. */
  readonly packages: readonly string[];
  /** Dependencies named by a package.json but not installed (optional ones for other platforms, mostly). */
  readonly missing: readonly string[];
}

type Manifest = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string> };

/**
 * The packages `root`'s production dependencies need, found as Node finds them (each package's own node_modules, then
 * its ancestors' up to the root's). devDependencies of the root are never followed; a package's peers are followed
 * when installed, since npm installs them for it.
 */
export function productionClosure(root: string): Closure {
  const found = new Set<string>();
  const missing = new Set<string>();
  const rootManifest = readManifest(root);
  const queue: { dir: string; deps: string[]; optional: Set<string> }[] = [
    { dir: root, deps: [...Object.keys(rootManifest.dependencies ?? {}), ...Object.keys(rootManifest.optionalDependencies ?? {})], optional: new Set(Object.keys(rootManifest.optionalDependencies ?? {})) },
  ];
  while (queue.length > 0) {
    const { dir, deps, optional } = queue.shift()!;
    for (const name of deps) {
      const at = resolvePackage(root, dir, name);
      if (at === undefined) {
        if (!optional.has(name)) missing.add(`${name} (needed by ${relative(root, dir) || 'berth'})`);
        continue;
      }
      const rel = relative(root, at).split(sep).join('/');
      if (found.has(rel)) continue;
      found.add(rel);
      const m = readManifest(at);
      const peers = Object.keys(m.peerDependencies ?? {});
      const opt = new Set([...Object.keys(m.optionalDependencies ?? {}), ...peers]);
      queue.push({ dir: at, deps: [...Object.keys(m.dependencies ?? {}), ...opt], optional: opt });
    }
  }
  return { packages: [...found].sort(), missing: [...missing].sort() };
}

/** Node's lookup: `<dir>/node_modules/<name>` for `from` and each ancestor that is not itself a node_modules folder, up to `root`. */
export function resolvePackage(root: string, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
    }
    if (dir === root || relative(root, dir).startsWith('..')) return undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function readManifest(dir: string): Manifest {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  } catch {
    return {};
  }
}

const BUILD_LEFTOVERS = /\/build\/Release\/(obj\.target|\.deps|obj)\//;

/** Every file of berth's runtime under `root`, sorted by path. */
export function runtimeFiles(root: string, closure: Closure = productionClosure(root)): ShippedFile[] {
  const files: ShippedFile[] = [];
  const add = (rel: string, filter: (path: string) => boolean, skipTop?: string): void => walk(root, rel, filter, files, skipTop);
  add('package.json', () => true);
  add('bin', () => true);
  // Source maps are only read with --enable-source-maps, which berth serve does not use.
  add('dist', (p) => !p.endsWith('.map'));
  // The Python runner and its site folder are read from src/ (core/paths.ts shipped()), also by the compiled server.
  add('src/inference/runtime/python', (p) => p.endsWith('.py') && !p.includes('/__pycache__/'));
  // A package's own node_modules holds its nested dependencies: those come in as packages of the closure, if needed.
  // Native addons' intermediate build files (object files, dependency lists) are not loaded at run time.
  for (const pkg of closure.packages) add(pkg, (p) => !BUILD_LEFTOVERS.test(p), `${pkg}/node_modules`);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function walk(root: string, rel: string, filter: (path: string) => boolean, out: ShippedFile[], skip: string | undefined, seen = new Set<string>()): void {
  const abs = join(root, rel);
  let st: Stats;
  try {
    st = statSync(abs); // follows symlinks: the image gets the files, not links out of it
  } catch {
    return;
  }
  if (st.isDirectory()) {
    if (rel === skip) return;
    const real = realpathSync(abs);
    if (seen.has(real)) return;
    seen.add(real);
    for (const name of readdirSync(abs).sort()) walk(root, `${rel}/${name}`, filter, out, skip, seen);
    return;
  }
  if (!st.isFile() || !filter(rel)) return;
  out.push({ path: rel, source: abs, mode: st.mode & 0o777, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
}

/** sha256 of files, remembered by (path, size, mtime, inode) so a second look at an unchanged tree costs only stat calls. */
export class FileHasher {
  private readonly known = new Map<string, { key: string; sha: string }>();

  async sha256(file: Pick<ShippedFile, 'source' | 'size' | 'mtimeMs' | 'ino'>): Promise<string> {
    const key = `${file.size}:${file.mtimeMs}:${file.ino}`;
    const hit = this.known.get(file.source);
    if (hit?.key === key) return hit.sha;
    const sha = await hashFile(file.source);
    this.known.set(file.source, { key, sha });
    return sha;
  }

  /** One digest of a file list: paths, executable bits and contents. */
  async digest(files: readonly ShippedFile[]): Promise<string> {
    const h = createHash('sha256');
    for (const f of files) h.update(`${f.path}\0${f.mode & 0o111 ? 'x' : '-'}\0${await this.sha256(f)}\n`);
    return h.digest('hex');
  }
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (c) => h.update(c)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** A file's identity for FileHasher, from a fresh stat. */
export function statFile(path: string): Pick<ShippedFile, 'source' | 'size' | 'mtimeMs' | 'ino' | 'mode'> {
  const st = statSync(path);
  return { source: path, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode & 0o777 };
}
