// Snapshots a deployment's source dir (or lone entry script) into the home, so later edits never leak into running replicas.
import { cp, lstat, mkdir, readdir, rename, rm, copyFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { BerthError } from '../../errors/catalogue.js';
import { removeMaterialized } from '../materialize.js';

/** Folders never worth copying: version control and Python's byte-code caches. */
const SKIP = new Set(['.git', '__pycache__']);
const MAX_FILES = 10_000;
const MAX_BYTES = 1024 ** 3;

export interface SourceRef {
  /** Absolute source dir on this machine, or undefined when only the entry script is deployed. */
  readonly sourceDir?: string;
  /** The entry script relative to the snapshot's root. */
  readonly entryScript: string;
}

function invalid(field: string, detail: string): never {
  throw new BerthError('VALIDATION_FAILED', { field, detail });
}

/** Checks the paths of a request (absolute, existing, the entry script inside the source dir) without copying anything. */
export function checkSource(entryScript: string, sourceDir: string | undefined): SourceRef {
  if (sourceDir !== undefined) {
    if (!isAbsolute(sourceDir)) invalid('source_dir', `"${sourceDir}" is not an absolute path (the control plane reads it on its own machine)`);
    if (!statSync(sourceDir, { throwIfNoEntry: false })?.isDirectory()) throw new BerthError('PATH_NOT_FOUND', { path: sourceDir });
    const full = resolve(sourceDir, entryScript);
    const rel = relative(sourceDir, full);
    if (rel.startsWith('..') || isAbsolute(rel)) invalid('entry_script', `${entryScript} is not inside the source dir ${sourceDir}`);
    if (!statSync(full, { throwIfNoEntry: false })?.isFile()) throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', { path: full });
    return { sourceDir, entryScript: rel.split(sep).join('/') };
  }
  if (!isAbsolute(entryScript)) invalid('entry_script', `"${entryScript}" is not an absolute path; give source_dir, or the script's absolute path`);
  if (!statSync(entryScript, { throwIfNoEntry: false })?.isFile()) throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', { path: entryScript });
  return { entryScript: basename(entryScript) };
}

/** Counts what a copy would take, refusing trees too large to be a source dir (a data folder or a home by mistake). */
async function measure(dir: string, acc = { files: 0, bytes: 0 }): Promise<{ files: number; bytes: number }> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await measure(full, acc);
    else {
      acc.files += 1;
      acc.bytes += (await lstat(full)).size;
    }
    if (acc.files > MAX_FILES || acc.bytes > MAX_BYTES) {
      invalid('source_dir', `${dir} holds more than ${MAX_FILES} files or 1 GiB; deploy a smaller folder (register large files as models: berth model register)`);
    }
  }
  return acc;
}

/** Copies the source into `stagingDir` (which must not exist yet); returns the entry script inside it. */
export async function snapshotSource(entryScript: string, sourceDir: string | undefined, stagingDir: string): Promise<SourceRef> {
  const ref = checkSource(entryScript, sourceDir);
  await mkdir(stagingDir, { recursive: true });
  try {
    if (ref.sourceDir === undefined) {
      await copyFile(entryScript, join(stagingDir, ref.entryScript));
    } else {
      await measure(ref.sourceDir);
      // Symlinks are copied as what they point to, so the snapshot does not change when their targets do.
      await cp(ref.sourceDir, stagingDir, { recursive: true, dereference: true, filter: (src) => !SKIP.has(basename(src)) || src === ref.sourceDir });
    }
  } catch (err) {
    await rm(stagingDir, { recursive: true, force: true });
    if (err instanceof BerthError) throw err;
    throw new BerthError('STORAGE_FAILED', { home: stagingDir, detail: `copying the source failed: ${(err as Error).message}` }, { cause: err });
  }
  return { entryScript: ref.entryScript };
}

/** Moves a finished snapshot to its final place (same filesystem: the staging dir lives in the home). */
export async function placeSnapshot(stagingDir: string, finalDir: string): Promise<void> {
  await mkdir(join(finalDir, '..'), { recursive: true });
  if (existsSync(finalDir)) await rm(finalDir, { recursive: true, force: true });
  await rename(stagingDir, finalDir);
}

/** Copies a previous generation's snapshot for a new generation that keeps the same source. */
export async function copySnapshot(fromDir: string, stagingDir: string): Promise<void> {
  await cp(fromDir, stagingDir, { recursive: true });
}

/** Removes a generation folder; its mounted models are read-only, so they are unlocked first. */
export async function removeGeneration(dir: string): Promise<void> {
  await removeMaterialized(dir);
  await rm(dir, { recursive: true, force: true });
}

/** Removes a service folder with all its generations. */
export async function removeServiceFiles(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeGeneration(join(dir, e.name));
  await rm(dir, { recursive: true, force: true });
}
