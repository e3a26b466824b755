// Prune: removes the images no service generation uses, keeping the layers under kept images, the bases and builds in progress.
import { rmSync } from 'node:fs';
import type { Logger } from '../core/logger.js';
import type { DockerConnection } from './docker.js';
import { describe, statusOf } from './docker.js';
import { removeImage } from './engine.js';
import type { PruneReport } from './schema.js';
import type { ImageRecord, ImageStore } from './store.js';

export interface PruneDeps {
  readonly docker: DockerConnection;
  readonly store: ImageStore;
  /** Tags, refs or image ids in use. */
  readonly inUse: ReadonlySet<string>;
  /** Tags being made right now. */
  readonly busy: ReadonlySet<string>;
  readonly logger: Logger;
}

export async function pruneImages(d: PruneDeps): Promise<PruneReport> {
  const rows = d.store.list();
  const byTag = new Map(rows.map((r) => [r.tag, r]));
  const keep = new Map<string, string>();
  const hold = (r: ImageRecord, reason: string): void => {
    if (keep.has(r.tag)) return;
    keep.set(r.tag, reason);
    // The layers under a kept image stay: removing them would free nothing (the image holds them) and lose their tags.
    const parent = r.parent === undefined ? undefined : byTag.get(r.parent) ?? rows.find((p) => p.imageId === r.parent);
    if (parent !== undefined) hold(parent, `under ${r.tag}`);
  };
  for (const r of rows) {
    if (r.kind === 'base') hold(r, 'a base image (made once, kept)');
    else if (d.busy.has(r.tag) || r.state === 'building') hold(r, 'being made now');
    else if (d.inUse.has(r.tag) || (r.ref !== undefined && d.inUse.has(r.ref)) || (r.imageId !== undefined && d.inUse.has(r.imageId))) hold(r, 'in use by a service');
  }
  const removed: PruneReport['removed'] = [];
  let freed = 0;
  // Top layers first: an app goes before the env under it.
  const order = { app: 0, env: 1, runtime: 2, base: 3 } as const;
  for (const r of rows.filter((x) => !keep.has(x.tag)).sort((a, b) => order[a.kind] - order[b.kind])) {
    if (r.state === 'built') {
      try {
        if (await removeImage(d.docker, r.tag)) freed += r.size ?? 0;
      } catch (err) {
        // 409: a container (perhaps not berth's) still uses it.
        if (statusOf(err) === 409) {
          keep.set(r.tag, `the engine refused: ${describe(err)}`);
          continue;
        }
        throw d.docker.wrap(err);
      }
    }
    d.store.remove(r.tag);
    rmSync(r.logPath, { force: true });
    removed.push({ tag: r.tag, kind: r.kind, state: r.state, ...(r.size === undefined ? {} : { size: r.size }) });
  }
  // Resolved wheelhouses no kept env image was built from.
  const usedKeys = new Set([...keep.keys()].map((t) => byTag.get(t)?.inputs.resolution).filter((k): k is string => typeof k === 'string'));
  for (const lock of d.store.locks()) {
    if (usedKeys.has(lock.key)) continue;
    rmSync(lock.dir, { recursive: true, force: true });
    d.store.removeLock(lock.key);
  }
  // The throw-away install stages of env builds (untagged once their build ended).
  try {
    const docker = await d.docker.get();
    const pruned = await docker.pruneImages({ filters: JSON.stringify({ dangling: ['true'], label: ['berth.stage=install'] }) });
    freed += pruned.SpaceReclaimed ?? 0;
  } catch (err) {
    d.logger.warn({ err }, 'pruning the install stages failed');
  }
  d.logger.info({ removed: removed.length, kept: keep.size, freed_bytes: freed }, 'images pruned');
  return { removed, kept: [...keep].map(([tag, reason]) => ({ tag, reason })), freed_bytes: freed };
}
