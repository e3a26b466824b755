// The verbs on a resource: get, list, create, update (PUT), patch (apply, merge, JSON, strategic), delete, and the
// status and scale subresources, each answering as the real API server does.
import { commitCreate, commitUpdate } from './commit.js';
import type { Context } from './context.js';
import { decodeApply, decodeObject, parseBody } from './decode.js';
import { deleteObject, type DeleteOptions } from './delete.js';
import { apply } from './managed.js';
import { applyPatch, patchKind } from './patch.js';
import { apiVersionOf, NAMESPACES, type ResourceInfo } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, type Json, type KObject } from './types.js';
import { alreadyExists, badRequest, invalid, invalidValue, notFound, required, methodNotAllowed } from './status.js';
import { getScale, scaleTarget } from './scale.js';

export interface Call {
  readonly resource: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly query: URLSearchParams;
  readonly body: string;
  readonly contentType?: string;
  readonly userAgent?: string;
}

export interface Answer {
  readonly code: number;
  readonly body: unknown;
  readonly warnings?: readonly string[];
}

const withKind = (r: ResourceInfo, o: KObject): KObject => ({ ...o, apiVersion: apiVersionOf(r), kind: r.kind });

/** The field manager of a write: ?fieldManager, else the user agent up to its first '/'. */
function managerOf(c: Call): string {
  const m = c.query.get('fieldManager');
  if (m !== null && m !== '') return m;
  return (c.userAgent ?? 'unknown').split('/')[0] ?? 'unknown';
}

function requireNamespace(ctx: Context, c: Call): void {
  if (!c.resource.namespaced || c.namespace === undefined) return;
  const ns = ctx.store.get(NAMESPACES, undefined, c.namespace);
  if (ns === undefined) throw notFound(NAMESPACES, c.namespace);
  if (ns.metadata.deletionTimestamp !== undefined) {
    throw new ApiError({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
      message: `${c.resource.resource} "${c.name ?? ''}" is forbidden: unable to create new content in namespace ${c.namespace} because it is being terminated`,
      details: { name: c.name ?? '', kind: c.resource.resource, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${c.namespace} is being terminated`, field: 'metadata.namespace' }] },
    });
  }
}

export function get(ctx: Context, c: Call): Answer {
  const o = ctx.store.get(c.resource, c.namespace, c.name ?? '');
  if (o === undefined) throw notFound(c.resource, c.name ?? '');
  if (c.subresource === 'scale') return { code: 200, body: getScale(c.resource, o) };
  return { code: 200, body: withKind(c.resource, o) };
}

export function list(ctx: Context, c: Call): Answer {
  const labels = parseLabelSelector(c.query.get('labelSelector'));
  const fields = parseFieldSelector(c.resource.resource, c.query.get('fieldSelector'));
  const all = ctx.store.list(c.resource, c.namespace).filter((o) => labels(o.metadata.labels ?? {}) && fields(o));
  const limit = Number(c.query.get('limit') ?? '0');
  const start = Number(Buffer.from(c.query.get('continue') ?? '', 'base64').toString() || '0');
  const items = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
  const more = limit > 0 && start + limit < all.length;
  // Items of a list carry neither apiVersion nor kind, as with the real server.
  const bare = items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  return {
    code: 200,
    body: {
      kind: `${c.resource.kind}List`, apiVersion: apiVersionOf(c.resource),
      metadata: { resourceVersion: ctx.store.currentRv(), ...(more ? { continue: Buffer.from(String(start + limit)).toString('base64'), remainingItemCount: all.length - start - limit } : {}) },
      items: bare,
    },
  };
}

export function create(ctx: Context, c: Call): Answer {
  if (c.resource.readOnly === true) throw methodNotAllowed();
  const { object, warnings } = decodeObject(c.resource, parseBody(c.body, false), c.query.get('fieldValidation'));
  if (c.namespace !== undefined && object.metadata.namespace !== undefined && object.metadata.namespace !== c.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (c.resource.namespaced) object.metadata.namespace = c.namespace;
  if ((object.metadata.name ?? '') === '' && object.metadata.generateName !== undefined) {
    const chars = 'bcdfghjklmnpqrstvwxz2456789';
    object.metadata.name = object.metadata.generateName + Array.from({ length: 5 }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
  }
  if ((object.metadata.name ?? '') === '') throw invalid(c.resource.group, c.resource.kind, '', [required('metadata.name', 'name or generateName is required')]);
  requireNamespace(ctx, { ...c, name: object.metadata.name });
  if (ctx.store.get(c.resource, c.namespace, object.metadata.name ?? '') !== undefined) throw alreadyExists(c.resource, object.metadata.name ?? '');
  const created = commitCreate(ctx.store, c.resource, object, { manager: managerOf(c) });
  return { code: 201, body: withKind(c.resource, created), warnings };
}

export function update(ctx: Context, c: Call): Answer {
  if (c.resource.readOnly === true) throw methodNotAllowed();
  const raw = parseBody(c.body, false);
  if (c.subresource === 'scale') return { code: 200, body: writeScale(ctx, c, raw) };
  const { object, warnings } = decodeObject(c.resource, raw, c.query.get('fieldValidation'));
  const name = c.name ?? '';
  if (object.metadata.name !== undefined && object.metadata.name !== name) throw badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
  if (c.namespace !== undefined && object.metadata.namespace !== undefined && object.metadata.namespace !== c.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  object.metadata.name = name;
  if (c.namespace !== undefined) object.metadata.namespace = c.namespace;
  const old = ctx.store.get(c.resource, c.namespace, name);
  if (old === undefined) throw notFound(c.resource, name);
  const rv = object.metadata.resourceVersion;
  if (rv === undefined && !c.resource.unconditionalUpdate) throw invalid(c.resource.group, c.resource.kind, name, [invalidValue('metadata.resourceVersion', 0, 'must be specified for an update')]);
  const written = commitUpdate(ctx.store, c.resource, object, { manager: managerOf(c), ...(c.subresource === undefined ? {} : { subresource: c.subresource }), ...(rv === undefined ? {} : { expectRv: rv }) });
  return { code: 200, body: withKind(c.resource, written), warnings };
}

export function patch(ctx: Context, c: Call): Answer {
  if (c.resource.readOnly === true) throw methodNotAllowed();
  const kind = patchKind(c.contentType);
  const name = c.name ?? '';
  const force = c.query.get('force');
  if (kind !== 'apply' && force !== null) throw invalid('meta.k8s.io', 'PatchOptions', '', [{ type: 'FieldValueForbidden', field: 'force', body: 'Forbidden: may not be specified for non-apply patch' }]);
  if (kind === 'apply') {
    const manager = c.query.get('fieldManager') ?? '';
    if (manager === '') throw invalid('meta.k8s.io', 'PatchOptions', '', [required('fieldManager', 'is required for apply patch')]);
    if (c.subresource !== undefined) throw badRequest(`apply is not supported on the ${c.subresource} subresource by this stand-in`);
    const applied = decodeApply(c.resource, parseBody(c.body, true), c.namespace, name);
    if (c.resource.subresources.includes('status')) delete applied.status;
    const live = ctx.store.get(c.resource, c.namespace, name);
    if (live === undefined) requireNamespace(ctx, c);
    const result = apply(live, applied, manager, force === 'true', apiVersionOf(c.resource), c.resource.subresources.includes('status'));
    const object = { ...(result.object as KObject), apiVersion: apiVersionOf(c.resource), kind: c.resource.kind };
    object.metadata = { ...object.metadata, name, ...(c.namespace === undefined ? {} : { namespace: c.namespace }) };
    if (live === undefined) return { code: 201, body: withKind(c.resource, commitCreate(ctx.store, c.resource, object, { manager, managedFields: result.managedFields })) };
    return { code: 200, body: withKind(c.resource, commitUpdate(ctx.store, c.resource, object, { manager, managedFields: result.managedFields })) };
  }
  const live = ctx.store.get(c.resource, c.namespace, name);
  if (live === undefined) throw notFound(c.resource, name);
  const body = parseBody(c.body, false);
  if (c.subresource === 'scale') return { code: 200, body: writeScale(ctx, c, applyPatch(kind, getScale(c.resource, live), body)) };
  const patched = applyPatch(kind, withKind(c.resource, live), body) as Json;
  const { object, warnings } = decodeObject(c.resource, patched, c.query.get('fieldValidation'));
  if (object.metadata.name !== name) throw badRequest(`the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${name})`);
  const rv = object.metadata.resourceVersion;
  const written = commitUpdate(ctx.store, c.resource, object, { manager: managerOf(c), ...(c.subresource === undefined ? {} : { subresource: c.subresource }), ...(rv === undefined || rv === live.metadata.resourceVersion ? {} : { expectRv: rv }) });
  return { code: 200, body: withKind(c.resource, written), warnings };
}

function writeScale(ctx: Context, c: Call, scale: Json): Json {
  const name = c.name ?? '';
  const live = ctx.store.get(c.resource, c.namespace, name);
  if (live === undefined) throw notFound(c.resource, name);
  const replicas = scale?.spec?.replicas;
  if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) throw invalid('autoscaling', 'Scale', name, [invalidValue('spec.replicas', replicas ?? null, 'must be greater than or equal to 0')]);
  const rv = scale?.metadata?.resourceVersion as string | undefined;
  const written = commitUpdate(ctx.store, c.resource, scaleTarget(live, replicas), { manager: managerOf(c), subresource: 'scale', ...(rv === undefined ? {} : { expectRv: rv }) });
  return getScale(c.resource, written);
}

export function remove(ctx: Context, c: Call): Answer {
  if (c.resource.readOnly === true) throw methodNotAllowed();
  const body = c.body.trim() === '' ? {} : parseBody(c.body, false);
  const q = c.query;
  const grace = q.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
  const o: DeleteOptions = {
    ...(q.get('propagationPolicy') ?? body.propagationPolicy ? { propagationPolicy: q.get('propagationPolicy') ?? body.propagationPolicy } : {}),
    ...(grace === undefined || grace === null ? {} : { gracePeriodSeconds: Number(grace) }),
    ...(body.preconditions === undefined ? {} : { preconditions: body.preconditions }),
  };
  const { object } = deleteObject(ctx.store, c.resource, c.namespace, c.name ?? '', o);
  if (c.resource.returnsDeleted) return { code: 200, body: withKind(c.resource, object) };
  return {
    code: 200,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: c.name, ...(c.resource.group === '' ? {} : { group: c.resource.group }), kind: c.resource.resource, uid: object.metadata.uid } },
  };
}
