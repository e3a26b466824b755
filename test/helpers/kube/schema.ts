// Checks objects against the official OpenAPI schemas: kubernetes-models' validators (types, formats, required fields),
// and @kubernetes/client-node's generated field tables (from the same OpenAPI) for fields the schema does not declare.
import * as k8s from '@kubernetes/client-node';
import { Deployment, ReplicaSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Event, Namespace, Node, Pod, Secret, Service } from 'kubernetes-models/v1';
import { Event as NewEvent } from 'kubernetes-models/events.k8s.io/v1';
import type { ResourceInfo } from './resources.js';
import type { Json } from './types.js';
import { listKeysOf } from './list-keys.js';

interface AjvError { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }
type ModelClass = new (data: Json) => { validate(): void };

const VALIDATORS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'apps/v1/ReplicaSet': ReplicaSet as unknown as ModelClass,
  'v1/Namespace': Namespace as unknown as ModelClass,
  'v1/Node': Node as unknown as ModelClass,
  'v1/Pod': Pod as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/Secret': Secret as unknown as ModelClass,
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/Event': Event as unknown as ModelClass,
  'events.k8s.io/v1/Event': NewEvent as unknown as ModelClass,
};

export interface SchemaProblem {
  /** `spec.template.spec.containers[0].name`: the path as the API server's field errors print it. */
  readonly field: string;
  readonly keyword: string;
  readonly message: string;
  readonly params: Record<string, unknown>;
}

/** JSON pointer (`/spec/containers/0/name`) to the field path validation errors use (`spec.containers[0].name`). */
export function pointerToField(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

/** Problems the OpenAPI schema finds; `partial` (an apply configuration) leaves out missing required fields. */
export function schemaProblems(r: ResourceInfo, obj: Json, partial: boolean): SchemaProblem[] {
  const key = `${r.group === '' ? '' : `${r.group}/`}${r.version}/${r.kind}`;
  const Model = VALIDATORS[key];
  if (Model === undefined) throw new Error(`no validator for ${key}`);
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    const errors = ((err as { errors?: AjvError[] }).errors ?? []) as AjvError[];
    const seen = new Set<string>();
    const out: SchemaProblem[] = [];
    for (const e of errors) {
      if (partial && e.keyword === 'required') continue;
      const pointer = e.keyword === 'required' ? `${e.instancePath}/${String(e.params.missingProperty)}` : e.instancePath;
      if (seen.has(pointer)) continue; // oneOf alternatives (int-or-string, quantity) report the same field several times
      seen.add(pointer);
      out.push({ field: pointerToField(pointer), keyword: e.keyword, message: e.message ?? e.keyword, params: e.params });
    }
    return out;
  }
}

interface Attribute { name: string; baseName: string; type: string }
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>;

export interface UnknownField {
  /** `.spec.template.spec.containers[name="serve"].imagee`: as server-side apply (structured-merge-diff) prints it. */
  readonly smdPath: string;
  /** `spec.template.spec.containers[0].imagee`: as strict JSON decoding prints it. */
  readonly jsonPath: string;
}

/** Fields the schema does not declare, walking the object with the client's generated field tables. */
export function unknownFields(r: ResourceInfo, obj: Json): UnknownField[] {
  const out: UnknownField[] = [];
  walk(r.model, obj, '', '', [], out);
  return out;
}

function walk(type: string, value: Json, smd: string, json: string, names: readonly string[], out: UnknownField[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array !== null) {
    if (!Array.isArray(value)) return;
    const keys = listKeysOf(names);
    value.forEach((item: Json, i: number) => {
      const smdItem = keys === undefined || typeof item !== 'object' || item === null ? `[${i}]` : `[${keys.map((k) => `${k}=${JSON.stringify(keyValue(k, item))}`).join(',')}]`;
      walk(array[1] as string, item, smd + smdItem, `${json}[${i}]`, names, out);
    });
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    if (typeof value !== 'object' || Array.isArray(value)) return;
    for (const [k, v] of Object.entries(value)) walk(map[1] as string, v, `${smd}.${k}`, `${json}.${k}`, [...names, '*'], out);
    return;
  }
  const attrs = models[type]?.getAttributeTypeMap?.();
  if (attrs === undefined || typeof value !== 'object' || Array.isArray(value)) return; // string, number, any, IntOrString, Date
  for (const [k, v] of Object.entries(value as Record<string, Json>)) {
    const attr = attrs.find((a) => a.baseName === k);
    const smdPath = `${smd}.${k}`;
    const jsonPath = json === '' ? k : `${json}.${k}`;
    if (attr === undefined) out.push({ smdPath, jsonPath });
    else walk(attr.type, v, smdPath, jsonPath, [...names, k], out);
  }
}

/** A key's value in a list item, with the schema's default for `protocol` (what structured-merge-diff uses). */
export function keyValue(key: string, item: Json): Json {
  const v = (item as Record<string, Json>)[key];
  return v === undefined && key === 'protocol' ? 'TCP' : v;
}

/** Removes the given fields (the server drops unknown fields when fieldValidation is Warn or Ignore). */
export function dropFields(obj: Json, fields: readonly UnknownField[]): void {
  for (const f of fields) {
    const parts = f.jsonPath.replace(/\[(\d+)\]/g, '.$1').split('.');
    let at: Json = obj;
    for (const p of parts.slice(0, -1)) at = at?.[p];
    if (at !== undefined && at !== null) delete at[parts[parts.length - 1] as string];
  }
}

/** Drops explicit nulls, as decoding into the API types does for optional fields. */
export function dropNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}
