// Lays out model versions for a replica in the classic AZUREML_MODEL_DIR layout, read-only, by hard-linking blobs.
import { chmod, copyFile, link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { BerthError } from '../errors/catalogue.js';

export interface MountFile {
  /** relative, '/'-separated path inside the model, as registered */
  readonly path: string;
  /** absolute path of the content (a blob) */
  readonly source: string;
}

export interface MountableModel {
  readonly name: string;
  readonly version: number;
  readonly files: readonly MountFile[];
}

export const MODELS_FOLDER = 'azureml-models';

/**
 * Writes `<target>/azureml-models/<name>/<version>/<files>` and returns the AZUREML_MODEL_DIR a worker gets: the
 * version folder for one model, the `azureml-models` folder for several (the classic service's two layouts).
 */
export async function materializeModels(models: readonly MountableModel[], targetDir: string): Promise<{ modelDir: string }> {
  const root = join(targetDir, MODELS_FOLDER);
  const seen = new Set<string>();
  for (const m of models) {
    const key = `${m.name}:${m.version}`;
    if (seen.has(key)) throw new BerthError('INVALID_ARGUMENT', { detail: `model ${key} is listed twice` });
    seen.add(key);
  }
  if (await exists(root)) {
    throw new BerthError('INVALID_ARGUMENT', { detail: `${root} already exists; remove it first (removeMaterialized)` });
  }
  await mkdir(root, { recursive: true });
  const dirs = new Set<string>([root]);
  for (const m of models) {
    const versionDir = join(root, m.name, String(m.version));
    dirs.add(join(root, m.name));
    dirs.add(versionDir);
    await mkdir(versionDir, { recursive: true });
    for (const f of m.files) {
      const dest = join(versionDir, ...f.path.split('/'));
      // Paths are validated at registration; this guards the layout against a bad caller all the same.
      if (!dest.startsWith(versionDir + sep)) throw new BerthError('INVALID_ARGUMENT', { detail: `bad model file path ${f.path}` });
      for (let d = dirname(dest); d !== versionDir; d = dirname(d)) dirs.add(d);
      await mkdir(dirname(dest), { recursive: true });
      await placeFile(f.source, dest);
    }
  }
  // Deepest folders first, so each is still writable while its children are being locked.
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await chmod(d, 0o555);
  const only = models.length === 1 ? models[0] : undefined;
  return { modelDir: only === undefined ? root : join(root, only.name, String(only.version)) };
}

/** Removes what materializeModels wrote under `targetDir` (its folders are read-only, so plain rm would fail). */
export async function removeMaterialized(targetDir: string): Promise<void> {
  const root = join(targetDir, MODELS_FOLDER);
  if (!(await exists(root))) return;
  await makeWritable(root);
  await rm(root, { recursive: true, force: true });
}

/** A hard link costs no space or time; across filesystems (EXDEV) or where links are refused, a copy does. */
async function placeFile(source: string, dest: string): Promise<void> {
  try {
    await link(source, dest);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
  }
  await copyFile(source, dest);
  await chmod(dest, 0o444);
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeWritable(join(dir, entry.name));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
