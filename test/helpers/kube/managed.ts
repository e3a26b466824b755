// managedFields: who owns which fields, server-side apply (merge, removal of fields a manager stopped applying, conflicts), updates.
import { deepEqual, fromFieldsV1, leaves, mergeApplied, printPath, removeAt, toFieldsV1, valueAt, type FieldPath } from './fields.js';
import { applyConflict } from './status.js';
import { clone, now, type Json, type ManagedFieldsEntry } from './types.js';

interface Owner { entry: ManagedFieldsEntry; set: Set<FieldPath> }

const owners = (managed: readonly ManagedFieldsEntry[] | undefined): Owner[] => (managed ?? []).map((entry) => ({ entry, set: fromFieldsV1(entry.fieldsV1) }));

/** Top-level fields a write through the main resource (or the status subresource) may own. */
export function scopeOf(hasStatus: boolean, subresource: string | undefined): (top: string) => boolean {
  if (!hasStatus) return () => true;
  return subresource === 'status' ? (k) => k === 'status' || k === 'metadata' : (k) => k !== 'status';
}

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource !== undefined && e.subresource !== '') s += ` with subresource ${JSON.stringify(e.subresource)}`;
  return e.operation === 'Update' ? `${s} using ${e.apiVersion} at ${e.time}` : s;
}

function finish(list: Owner[]): ManagedFieldsEntry[] {
  return list.filter((o) => o.set.size > 0).map((o) => ({ ...o.entry, fieldsV1: toFieldsV1(o.set) }));
}

export interface Applied { readonly object: Json; readonly managedFields: ManagedFieldsEntry[] }

/**
 * Server-side apply of `applied` (already stripped of what apply ignores) onto `live` (undefined: create) by `manager`.
 * Throws 409 Conflict when another manager owns a field this apply changes and `force` is false.
 */
export function apply(live: Json | undefined, applied: Json, manager: string, force: boolean, apiVersion: string, hasStatus: boolean): Applied {
  const base = live === undefined ? { metadata: {} } : clone(live);
  const list = owners(base.metadata.managedFields);
  const scope = scopeOf(hasStatus, undefined);
  const newSet = leaves(applied, scope);
  const mine = list.find((o) => o.entry.manager === manager && o.entry.operation === 'Apply' && (o.entry.subresource ?? '') === '');
  const others = list.filter((o) => o !== mine);

  const conflicts: { path: FieldPath; owner: Owner }[] = [];
  for (const p of newSet) {
    if (p.endsWith('.')) continue;
    for (const o of others) if (o.set.has(p) && !deepEqual(valueAt(base, p), valueAt(applied, p))) conflicts.push({ path: p, owner: o });
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  for (const c of conflicts) c.owner.set.delete(c.path);

  // Fields this manager applied before and no longer applies are removed, unless someone else owns them too.
  for (const p of mine?.set ?? []) {
    if (newSet.has(p) || others.some((o) => o.set.has(p))) continue;
    removeAt(base, p);
  }
  const merged = mergeApplied(base, applied);
  const entry: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {} };
  const next: Owner[] = mine === undefined ? [...list, { entry, set: newSet }] : list.map((o) => (o === mine ? { entry: sameSet(mine.set, newSet) ? mine.entry : entry, set: newSet } : o));
  return { object: merged, managedFields: finish(next) };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function conflictError(conflicts: { path: FieldPath; owner: Owner }[]): Error {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.owner.entry)}`, field: printPath(c.path) }));
  if (conflicts.length === 1) {
    const c = conflicts[0] as { path: FieldPath; owner: Owner };
    return applyConflict(`Apply failed with 1 conflict: conflict with ${printManager(c.owner.entry)}: ${printPath(c.path)}`, causes);
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const m = printManager(c.owner.entry);
    byManager.set(m, [...(byManager.get(m) ?? []), printPath(c.path)]);
  }
  const lines: string[] = [];
  for (const m of [...byManager.keys()].sort()) lines.push(`conflicts with ${m}:`, ...(byManager.get(m) ?? []).map((p) => `- ${p}`));
  return applyConflict(`Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`, causes);
}

/**
 * managedFields after a non-apply write (create, update, patch, a controller's status write): the writer owns what it
 * set or changed, other managers lose those fields, and fields that went away leave every set.
 */
export function recordUpdate(old: Json | undefined, next: Json, manager: string, apiVersion: string, hasStatus: boolean, subresource?: string): ManagedFieldsEntry[] {
  const list = owners(old?.metadata?.managedFields ?? next.metadata?.managedFields);
  const scope = scopeOf(hasStatus, subresource);
  const before = old === undefined ? new Set<FieldPath>() : leaves(old, scope);
  const after = leaves(next, scope);
  const changed = new Set([...after].filter((p) => !before.has(p) || !deepEqual(valueAt(old, p), valueAt(next, p))));
  const gone = [...before].filter((p) => !after.has(p));
  for (const o of list) {
    for (const p of gone) o.set.delete(p);
    for (const p of changed) o.set.delete(p);
  }
  if (changed.size === 0) return finish(list);
  const sub = subresource === undefined ? {} : { subresource };
  let mine = list.find((o) => o.entry.manager === manager && o.entry.operation === 'Update' && (o.entry.subresource ?? '') === (subresource ?? ''));
  if (mine === undefined) {
    mine = { entry: { manager, operation: 'Update', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {}, ...sub }, set: new Set() };
    list.push(mine);
  } else mine.entry = { ...mine.entry, time: now() };
  for (const p of changed) mine.set.add(p);
  return finish(list);
}
