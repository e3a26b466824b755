// Field paths of objects as managedFields (FieldsV1) describes them: the leaves an object sets, values at paths, removal, merge.
import { keyValue } from './schema.js';
import { listKeysOf } from './list-keys.js';
import type { Json } from './types.js';

/** A path is its FieldsV1 elements (`f:spec`, `k:{"name":"serve"}`, `.`) joined with `\u0000`. */
export type FieldPath = string;
const SEP = '\u0000';

/** Fields no manager owns: identity and bookkeeping of the object. */
const IGNORED_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'generateName', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']);

const isMap = (v: Json): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

function itemKey(keys: readonly string[], item: Json): string {
  const o: Record<string, Json> = {};
  for (const k of keys) o[k] = keyValue(k, item);
  return `k:${JSON.stringify(o)}`;
}

/** The leaves an object sets (and the items of associative lists, as `.`), `only` limiting the top-level fields. */
export function leaves(obj: Json, only?: (top: string) => boolean): Set<FieldPath> {
  const out = new Set<FieldPath>();
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (only !== undefined && !only(k)) continue;
    if (k === 'metadata') {
      for (const [mk, mv] of Object.entries(v ?? {})) if (!IGNORED_META.has(mk)) visit(mv, [`f:metadata`, `f:${mk}`], ['metadata', mk], out);
      continue;
    }
    visit(v, [`f:${k}`], [k], out);
  }
  return out;
}

function visit(v: Json, path: string[], names: string[], out: Set<FieldPath>): void {
  if (isMap(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) visit(x, [...path, `f:${k}`], [...names, k], out);
    return;
  }
  const keys = Array.isArray(v) ? listKeysOf(names) : undefined;
  if (keys !== undefined && (v as Json[]).every(isMap)) {
    for (const item of v as Json[]) {
      const at = [...path, itemKey(keys, item)];
      out.add([...at, '.'].join(SEP));
      for (const [k, x] of Object.entries(item)) visit(x, [...at, `f:${k}`], [...names, k], out);
    }
    if ((v as Json[]).length === 0) out.add(path.join(SEP));
    return;
  }
  out.add(path.join(SEP));
}

/** FieldsV1 JSON for a set of paths. */
export function toFieldsV1(set: ReadonlySet<FieldPath>): Json {
  const root: Record<string, Json> = {};
  for (const p of [...set].sort()) {
    let at = root;
    for (const part of p.split(SEP)) at = (at[part] ??= {}) as Record<string, Json>;
  }
  return root;
}

export function fromFieldsV1(f: Json): Set<FieldPath> {
  const out = new Set<FieldPath>();
  const go = (node: Json, path: string[]): void => {
    const entries = Object.entries(node ?? {});
    if (entries.length === 0 && path.length > 0) out.add(path.join(SEP));
    for (const [k, v] of entries) {
      if (k === '.') out.add([...path, '.'].join(SEP));
      else go(v, [...path, k]);
    }
  };
  go(f, []);
  return out;
}

/** Finds the list item a `k:{...}` element names. */
function findItem(list: Json[], element: string): number {
  const want = JSON.parse(element.slice(2)) as Record<string, Json>;
  return list.findIndex((item) => Object.entries(want).every(([k, v]) => JSON.stringify(keyValue(k, item)) === JSON.stringify(v)));
}

/** The value at a path, or undefined. */
export function valueAt(obj: Json, path: FieldPath): Json {
  let at: Json = obj;
  for (const part of path.split(SEP)) {
    if (at === undefined || at === null) return undefined;
    if (part === '.') return at;
    if (part.startsWith('f:')) at = at[part.slice(2)];
    else if (part.startsWith('k:') && Array.isArray(at)) {
      const i = findItem(at, part);
      at = i < 0 ? undefined : at[i];
    } else return undefined;
  }
  return at;
}

/** Removes the field (or, for `.`, the list item) at a path; maps left empty by it go too. */
export function removeAt(obj: Json, path: FieldPath): void {
  const parts = path.split(SEP);
  const trail: Json[] = [obj];
  let at: Json = obj;
  for (let n = 0; n < parts.length - 1; n++) {
    const part = parts[n] as string;
    if (at === undefined || at === null) return;
    if (part.startsWith('f:')) at = at[part.slice(2)];
    else if (Array.isArray(at)) {
      const i = findItem(at, part);
      if (i < 0) return;
      if (n === parts.length - 2 && parts[parts.length - 1] === '.') {
        at.splice(i, 1);
        return;
      }
      at = at[i];
    }
    trail.push(at);
  }
  const last = parts[parts.length - 1] as string;
  if (isMap(at) && last.startsWith('f:')) delete at[last.slice(2)];
  // Prune maps the removal emptied (not the object itself).
  for (let i = parts.length - 2; i >= 1; i--) {
    const node = trail[i];
    const parent = trail[i - 1];
    const part = parts[i - 1] as string;
    if (isMap(node) && Object.keys(node).length === 0 && isMap(parent) && part.startsWith('f:')) delete parent[part.slice(2)];
    else break;
  }
}

/** Merges an applied configuration into an object: maps field by field, associative lists item by item, the rest replaced. */
export function mergeApplied(live: Json, applied: Json, names: string[] = []): Json {
  if (isMap(applied) && isMap(live)) {
    const out: Record<string, Json> = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(live[k], v, [...names, k]);
    return out;
  }
  const keys = Array.isArray(applied) && Array.isArray(live) ? listKeysOf(names) : undefined;
  if (keys !== undefined && (applied as Json[]).every(isMap) && (live as Json[]).every(isMap)) {
    const liveItems = live as Json[];
    const used = new Set<number>();
    const out = (applied as Json[]).map((item) => {
      const i = findItem(liveItems, itemKey(keys, item));
      if (i < 0) return item;
      used.add(i);
      return mergeApplied(liveItems[i], item, names);
    });
    return [...out, ...liveItems.filter((_, i) => !used.has(i))];
  }
  return applied;
}

export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x: Json, i: number) => deepEqual(x, b[i]));
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
}

/** `.spec.replicas` / `.spec.template.spec.containers[name="serve"].image`: a path as apply conflicts print it. */
export function printPath(path: FieldPath): string {
  let out = '';
  for (const part of path.split(SEP)) {
    if (part === '.') continue;
    if (part.startsWith('f:')) out += `.${part.slice(2)}`;
    else if (part.startsWith('k:')) {
      const o = JSON.parse(part.slice(2)) as Record<string, Json>;
      out += `[${Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    }
  }
  return out;
}
