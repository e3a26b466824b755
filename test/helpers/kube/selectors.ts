// Label selectors (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and the field selectors the real server supports per resource.
import { badRequest } from './status.js';
import type { Json, KObject } from './types.js';

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits at commas outside parentheses. */
function terms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

export function parseLabelSelector(s: string | null | undefined): Requirement {
  if (s === null || s === undefined || s.trim() === '') return () => true;
  const reqs: Requirement[] = terms(s).map((t) => {
    let m = /^([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t);
    if (m !== null) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()).filter((v) => v !== ''));
      return op === 'in' ? (l) => l[key] !== undefined && values.has(l[key] as string) : (l) => l[key] === undefined || !values.has(l[key] as string);
    }
    m = /^([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(t);
    if (m !== null) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^(!?)([A-Za-z0-9./_-]+)$/.exec(t);
    if (m !== null) {
      const [, not, key] = m as unknown as [string, string, string];
      return not === '!' ? (l) => l[key] === undefined : (l) => l[key] !== undefined;
    }
    throw badRequest(`unable to parse requirement: found '${t}', expected: identifier`);
  });
  return (labels) => reqs.every((r) => r(labels));
}

/** A LabelSelector object (matchLabels, matchExpressions) as a predicate. */
export function selectorMatches(selector: Json, labels: Record<string, string>): boolean {
  if (selector === undefined || selector === null) return false;
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  for (const e of (selector.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    const has = labels[e.key] !== undefined;
    const inValues = has && (e.values ?? []).includes(labels[e.key] as string);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Field selector keys each resource supports (what the real server's field label conversion accepts). */
const FIELDS: Record<string, (o: KObject) => Record<string, string>> = {
  pods: (o) => ({ 'spec.nodeName': o.spec?.nodeName ?? '', 'status.phase': o.status?.phase ?? '', 'spec.restartPolicy': o.spec?.restartPolicy ?? '', 'status.podIP': o.status?.podIP ?? '' }),
  events: (o) => ({
    'involvedObject.kind': o.involvedObject?.kind ?? '', 'involvedObject.namespace': o.involvedObject?.namespace ?? '', 'involvedObject.name': o.involvedObject?.name ?? '',
    'involvedObject.uid': o.involvedObject?.uid ?? '', 'involvedObject.apiVersion': o.involvedObject?.apiVersion ?? '', 'involvedObject.resourceVersion': o.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': o.involvedObject?.fieldPath ?? '', reason: o.reason ?? '', reportingComponent: o.reportingComponent ?? '', source: o.source?.component ?? '', type: o.type ?? '',
    // events.k8s.io/v1 names
    'regarding.kind': o.regarding?.kind ?? '', 'regarding.name': o.regarding?.name ?? '', 'regarding.namespace': o.regarding?.namespace ?? '', 'regarding.uid': o.regarding?.uid ?? '',
    reportingController: o.reportingController ?? '',
  }),
  namespaces: (o) => ({ 'status.phase': o.status?.phase ?? '' }),
  secrets: (o) => ({ type: o.type ?? '' }),
  replicasets: (o) => ({ 'status.replicas': String(o.status?.replicas ?? 0) }),
};

export function parseFieldSelector(resource: string, s: string | null | undefined): (o: KObject) => boolean {
  if (s === null || s === undefined || s.trim() === '') return () => true;
  const reqs = s.split(',').map((t) => {
    const m = /^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$/.exec(t.trim());
    if (m === null) throw badRequest(`invalid selector: '${s}'; can't understand '${t}'`);
    const [, key, op, value] = m as unknown as [string, string, string, string];
    const extra = FIELDS[resource];
    if (key !== 'metadata.name' && key !== 'metadata.namespace' && (extra === undefined || !(key in extra({ apiVersion: '', kind: '', metadata: {} })))) {
      throw badRequest(`"${key}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    return (o: KObject): boolean => {
      const fields: Record<string, string> = { 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? '', ...(extra?.(o) ?? {}) };
      return op === '!=' ? fields[key] !== value : fields[key] === value;
    };
  });
  return (o) => reqs.every((r) => r(o));
}
