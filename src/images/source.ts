// The source snapshot as an image input: its files with their hashes, one digest of them, and what changed between two.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors/catalogue.js';
import type { TarEntry } from './tar.js';
import type { FileHasher } from './runtime-files.js';

export interface SourceEntry {
  /** Relative, '/'-separated. */
  readonly path: string;
  readonly kind: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  /** sha256 of a file's bytes, or a symlink's target. */
  readonly sha?: string;
  readonly size?: number;
  readonly mtimeMs: number;
  readonly source: string;
}

export interface SourceSnapshot {
  readonly dir: string;
  readonly digest: string;
  readonly entries: readonly SourceEntry[];
  readonly bytes: number;
}

/** Above this many files the per-file list is not kept for the rebuild explanation (the digest still decides). */
export const MAX_MANIFEST_FILES = 5000;

/** Walks and hashes the source folder; symlinks are kept as links, as `COPY` keeps them. */
export async function snapshotSource(dir: string, hasher: FileHasher): Promise<SourceSnapshot> {
  let top;
  try {
    top = lstatSync(dir);
  } catch {
    throw new BerthError('PATH_NOT_FOUND', { path: dir });
  }
  if (!top.isDirectory()) throw new BerthError('INVALID_ARGUMENT', { detail: `the source ${dir} is not a folder` });
  const entries: SourceEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    const abs = rel === '' ? dir : join(dir, rel);
    for (const name of readdirSync(abs).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(abs, name);
      const st = lstatSync(full);
      const base = { path, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, source: full };
      if (st.isSymbolicLink()) entries.push({ ...base, kind: 'symlink', sha: readlinkSync(full) });
      else if (st.isDirectory()) {
        entries.push({ ...base, kind: 'dir' });
        await visit(path);
      } else if (st.isFile()) {
        const sha = await hasher.sha256({ source: full, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
        entries.push({ ...base, kind: 'file', sha, size: st.size });
      }
      // sockets, fifos and devices have no place in an image
    }
  };
  await visit('');
  const h = createHash('sha256');
  for (const e of entries) h.update(`${e.kind}\0${e.path}\0${e.kind === 'dir' ? '' : e.mode & 0o111 ? 'x' : '-'}\0${e.sha ?? ''}\n`);
  return { dir, digest: h.digest('hex'), entries, bytes: entries.reduce((n, e) => n + (e.size ?? 0), 0) };
}

/** path → sha (or `dir`), for the rebuild explanation; undefined when the source has too many files to keep. */
export function sourceManifest(s: SourceSnapshot): Record<string, string> | undefined {
  if (s.entries.length > MAX_MANIFEST_FILES) return undefined;
  return Object.fromEntries(s.entries.filter((e) => e.kind !== 'dir').map((e) => [e.path, `${e.sha ?? ''}${e.mode & 0o111 ? '+x' : ''}`]));
}

/** The source as tar entries under `prefix` (the build context's folder for it). */
export function sourceTarEntries(s: SourceSnapshot, prefix: string): TarEntry[] {
  return s.entries.map((e): TarEntry => {
    const path = `${prefix}/${e.path}`;
    if (e.kind === 'dir') return { type: 'dir', path, mode: e.mode, mtimeMs: e.mtimeMs };
    if (e.kind === 'symlink') return { type: 'symlink', path, target: e.sha ?? '', mtimeMs: e.mtimeMs };
    return { type: 'file', path, mode: e.mode, mtimeMs: e.mtimeMs, source: e.source, size: e.size ?? 0 };
  });
}

export interface ManifestDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export function diffManifests(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): ManifestDiff {
  const added = Object.keys(after).filter((p) => !(p in before)).sort();
  const removed = Object.keys(before).filter((p) => !(p in after)).sort();
  const changed = Object.keys(after).filter((p) => p in before && before[p] !== after[p]).sort();
  return { added, removed, changed };
}

/** A folder's contents as tar entries under `prefix`, unhashed (wheelhouses, node_modules): links kept as links. */
export function folderEntries(dir: string, prefix: string): TarEntry[] {
  const out: TarEntry[] = [{ type: 'dir', path: prefix, mode: 0o755 }];
  const visit = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const full = join(abs, name);
      const path = `${rel}/${name}`;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out.push({ type: 'symlink', path, target: readlinkSync(full), mtimeMs: st.mtimeMs });
      else if (st.isDirectory()) {
        out.push({ type: 'dir', path, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs });
        visit(full, path);
      } else if (st.isFile()) out.push({ type: 'file', path, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, source: full, size: st.size });
    }
  };
  visit(dir, prefix);
  return out;
}
