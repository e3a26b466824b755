// Turning request bodies into objects the way the real server decodes them: JSON or YAML, unknown fields by fieldValidation
// (Strict: 400, Warn: dropped with a Warning header, Ignore: dropped), wrong types as decoding errors.
import { parse as parseYaml } from 'yaml';
import type { ResourceInfo } from './resources.js';
import { dropFields, dropNulls, schemaProblems, unknownFields } from './schema.js';
import { badRequest, internal } from './status.js';
import type { Json, KObject } from './types.js';

export function parseBody(body: string, yaml: boolean): Json {
  try {
    return yaml ? parseYaml(body) : JSON.parse(body);
  } catch (err) {
    throw badRequest(yaml ? `error decoding YAML: ${(err as Error).message}` : `couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

const GO_TYPES: Record<string, string> = { integer: 'int32', number: 'float64', string: 'string', boolean: 'bool', object: 'struct', array: 'slice' };
const jsonType = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

function valueAtField(obj: Json, field: string): unknown {
  let at = obj;
  for (const p of field.replace(/\[(\d+)\]/g, '.$1').split('.')) at = at?.[p];
  return at;
}

/** Type and format problems as the JSON decoder reports them (`cannot unmarshal string into Go struct field ...`). */
function decodeProblem(r: ResourceInfo, obj: Json, partial: boolean): string | undefined {
  const p = schemaProblems(r, obj, partial).find((x) => x.keyword !== 'required');
  if (p === undefined) return undefined;
  if (p.keyword === 'format' && p.params.format === 'quantity') return "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  const value = valueAtField(obj, p.field);
  const want = String(p.params.type ?? 'string');
  if (p.keyword === 'type' || p.keyword === 'oneOf') return `json: cannot unmarshal ${jsonType(value) === 'number' ? 'number' : jsonType(value)} into Go struct field .${p.field} of type ${GO_TYPES[want] ?? want}`;
  return `${p.field}: ${p.message}`;
}

export interface Decoded {
  readonly object: KObject;
  readonly warnings: string[];
}

/** A create/update body (or a non-apply patch's result): unknown fields and types as fieldValidation says. */
export function decodeObject(r: ResourceInfo, raw: Json, fieldValidation: string | null): Decoded {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('Object \'Kind\' is missing in \'' + JSON.stringify(raw) + '\'');
  const obj = dropNulls(raw) as KObject;
  const apiVersion = r.group === '' ? r.version : `${r.group}/${r.version}`;
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
  if (obj.kind !== undefined && obj.kind !== r.kind) throw badRequest(`${String(obj.kind)} in version "${r.version}" cannot be handled as a ${r.kind}: no kind "${String(obj.kind)}" is registered for version "${apiVersion}"`);
  obj.metadata ??= {};
  const problem = decodeProblem(r, obj, true);
  if (problem !== undefined) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${problem}`);
  const unknown = unknownFields(r, obj);
  const mode = fieldValidation ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(mode)) throw badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", got "${mode}"`);
  if (unknown.length > 0 && mode === 'Strict') {
    const list = unknown.map((u) => `unknown field "${u.jsonPath}"`).join(', ');
    throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${list}`);
  }
  dropFields(obj, unknown);
  return { object: obj, warnings: mode === 'Warn' ? unknown.map((u) => `unknown field "${u.jsonPath}"`) : [] };
}

/**
 * An apply configuration: structured-merge-diff refuses undeclared fields and wrong types. The real server answers those
 * with a plain error, i.e. HTTP 500 and no reason (kubernetes/kubernetes#122480, #139253), which is what this does.
 */
export function decodeApply(r: ResourceInfo, raw: Json, ns: string | undefined, name: string): KObject {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('error decoding YAML: the apply configuration is not an object');
  const obj = dropNulls(raw) as KObject;
  const apiVersion = r.group === '' ? r.version : `${r.group}/${r.version}`;
  if (obj.apiVersion !== apiVersion) throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${String(obj.apiVersion ?? '')}, expected: ${apiVersion}`);
  if (obj.kind !== r.kind) throw badRequest(`${String(obj.kind ?? '')} in version "${r.version}" cannot be handled as a ${r.kind}: no kind "${String(obj.kind ?? '')}" is registered for version "${apiVersion}"`);
  obj.metadata ??= {};
  if (obj.metadata.name !== undefined && obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  if (ns !== undefined && obj.metadata.namespace !== undefined && obj.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  if (obj.metadata.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
  const where = `${ns ?? ''}/${name}; ${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${r.kind}`;
  const unknown = unknownFields(r, obj);
  if (unknown.length > 0) throw internal(`failed to create typed patch object (${where}): ${(unknown[0] as { smdPath: string }).smdPath}: field not declared in schema`);
  const p = schemaProblems(r, obj, true).find((x) => x.keyword !== 'required');
  if (p !== undefined) {
    const value = valueAtField(obj, p.field);
    const detail = p.keyword === 'format' ? `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` : `expected ${String(p.params.type ?? 'a different type')}, got ${jsonType(value)}`;
    throw internal(`failed to create typed patch object (${where}): .${p.field}: ${detail}`);
  }
  obj.metadata.name = name;
  if (ns !== undefined) obj.metadata.namespace = ns;
  return obj;
}
