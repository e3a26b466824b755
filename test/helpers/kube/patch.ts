// Non-apply patches: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch (lists merged by their
// patch merge keys, `$patch: delete|replace`), as PATCH with their content types applies them.
import { listKeysOf } from './list-keys.js';
import { badRequest, unsupportedMediaType } from './status.js';
import { clone, type Json } from './types.js';

const isMap = (v: Json): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return clone(patch);
  const out: Record<string, Json> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[], op: string, path: string): { parent: Json; key: string } {
  let at = doc;
  for (const p of parts.slice(0, -1)) {
    at = Array.isArray(at) ? at[Number(p)] : at?.[p];
    if (at === undefined || at === null) throw badRequest(`the server rejected our request due to an error in our request`);
  }
  if (parts.length === 0) throw badRequest(`jsonpatch ${op} operation does not apply: doc is missing path: "${path}"`);
  return { parent: at, key: parts[parts.length - 1] as string };
}

export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let out = clone(doc);
  for (const o of ops) {
    const parts = pointer(String(o.path ?? ''));
    const get = (p: string[]): Json => p.reduce((at: Json, k) => (at === undefined ? undefined : Array.isArray(at) ? at[Number(k)] : at[k]), out);
    switch (o.op) {
      case 'add':
      case 'replace': {
        if (parts.length === 0) {
          out = clone(o.value);
          break;
        }
        const { parent, key } = parentOf(out, parts, o.op, o.path);
        if (o.op === 'replace' && get(parts) === undefined) throw badRequest(`jsonpatch replace operation does not apply: doc is missing key: ${String(o.path)}: missing value`);
        if (Array.isArray(parent)) {
          const i = key === '-' ? parent.length : Number(key);
          if (o.op === 'add') parent.splice(i, 0, clone(o.value));
          else parent[i] = clone(o.value);
        } else parent[key] = clone(o.value);
        break;
      }
      case 'remove': {
        const { parent, key } = parentOf(out, parts, o.op, o.path);
        if (get(parts) === undefined) throw badRequest(`jsonpatch remove operation does not apply: doc is missing path: "${String(o.path)}"`);
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      }
      case 'test':
        if (JSON.stringify(get(parts)) !== JSON.stringify(o.value)) throw badRequest(`the server rejected our request due to an error in our request`);
        break;
      case 'move':
      case 'copy': {
        const value = clone(get(pointer(String(o.from))));
        if (o.op === 'move') out = jsonPatch(out, [{ op: 'remove', path: o.from }]);
        out = jsonPatch(out, [{ op: 'add', path: o.path, value }]);
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${String(o.op)}`);
    }
  }
  return out;
}

export function strategicPatch(target: Json, patch: Json, names: string[] = []): Json {
  if (!isMap(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  const out: Record<string, Json> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const keys = Array.isArray(v) ? listKeysOf([...names, k]) : undefined;
    if (keys !== undefined && Array.isArray(out[k])) {
      const key = keys[0] as string;
      const list: Json[] = [...out[k]];
      for (const item of v as Json[]) {
        const i = list.findIndex((x) => x?.[key] === item?.[key]);
        if (item?.$patch === 'delete') {
          if (i >= 0) list.splice(i, 1);
        } else if (i >= 0) list[i] = strategicPatch(list[i], item, [...names, k]);
        else list.push(clone(item));
      }
      out[k] = list;
    } else out[k] = isMap(v) ? strategicPatch(out[k], v, [...names, k]) : clone(v);
  }
  return out;
}

export type PatchKind = 'apply' | 'merge' | 'json' | 'strategic';

export function patchKind(contentType: string | undefined): PatchKind {
  const t = (contentType ?? '').split(';')[0]?.trim();
  if (t === 'application/apply-patch+yaml' || t === 'application/apply-patch+cbor') return 'apply';
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  throw unsupportedMediaType();
}

export function applyPatch(kind: Exclude<PatchKind, 'apply'>, target: Json, patch: Json): Json {
  if (kind === 'merge') return mergePatch(target, patch);
  if (kind === 'json') return jsonPatch(target, patch);
  return strategicPatch(target, patch);
}
