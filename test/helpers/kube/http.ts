// The HTTP front of the stand-in: bearer-token authentication (401), paths of the core and named groups, discovery,
// verbs dispatched to the handlers, watches and pod logs, and errors answered as Status bodies.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Tls } from './kubeconfig.js';
import { randomUUID } from 'node:crypto';
import type { Context } from './context.js';
import { create, get, list, patch, remove, update, type Answer, type Call } from './handlers.js';
import { findResource, resourceList, RESOURCES, type ResourceInfo } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { methodNotAllowed, notFound, unauthorized } from './status.js';
import { ApiError } from './types.js';
import { serveWatch } from './watch.js';

/** The version the stand-in claims to be (its wording follows this release). */
export const VERSION = { major: '1', minor: '30', gitVersion: 'v1.30.0', platform: 'linux/amd64' };

interface Route {
  readonly resource: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

function parsePath(path: string): Route | 'discovery' | undefined {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) [group, version, rest] = ['', parts[1] as string, parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3) [group, version, rest] = [parts[1] as string, parts[2] as string, parts.slice(3)];
  else return undefined;
  if (rest.length === 0) return 'discovery';
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2] as string)?.namespaced === true) {
    const resource = findResource(group, version, rest[2] as string) as ResourceInfo;
    return { resource, namespace: rest[1] as string, ...(rest[3] === undefined ? {} : { name: rest[3] }), ...(rest[4] === undefined ? {} : { subresource: rest[4] }) };
  }
  const resource = findResource(group, version, rest[0] as string);
  if (resource === undefined || rest.length > 3) return undefined;
  return { resource, ...(rest[1] === undefined ? {} : { name: rest[1] }), ...(rest[2] === undefined ? {} : { subresource: rest[2] }) };
}

function send(res: ServerResponse, a: Answer): void {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json', 'audit-id': randomUUID(), 'cache-control': 'no-cache, private' };
  if (a.warnings !== undefined && a.warnings.length > 0) headers.warning = a.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(a.code, headers);
  res.end(`${JSON.stringify(a.body)}\n`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  if (req.headers.authorization !== `Bearer ${ctx.token}`) throw unauthorized();
  const path = url.pathname;
  if (path === '/version') return send(res, { code: 200, body: VERSION });
  if (path === '/healthz' || path === '/readyz' || path === '/livez') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  if (path === '/api') return send(res, { code: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } });
  if (path === '/apis') {
    const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))].map((g) => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' } }));
    return send(res, { code: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups } });
  }
  const route = parsePath(path);
  if (route === 'discovery') {
    const parts = path.split('/').filter((p) => p !== '');
    const list = parts[0] === 'api' ? resourceList('', parts[1] as string) : resourceList(parts[1] as string, parts[2] as string);
    if (list === undefined) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });
    return send(res, { code: 200, body: list });
  }
  if (route === undefined) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });
  const { resource, namespace, name, subresource } = route;
  if (subresource !== undefined && !resource.subresources.includes(subresource)) throw notFound(resource, name ?? '');
  const query = url.searchParams;
  const method = req.method ?? 'GET';
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  if (method === 'GET' && subresource === 'log' && namespace !== undefined && name !== undefined) {
    if (ctx.store.get(resource, namespace, name) === undefined) throw notFound(resource, name);
    if (ctx.podLog === undefined) throw notFound(resource, name);
    await ctx.podLog(req, res, namespace, name, query);
    return;
  }
  if (method === 'GET' && watch) {
    const labels = parseLabelSelector(query.get('labelSelector'));
    const fields = parseFieldSelector(resource.resource, query.get('fieldSelector'));
    const timeout = query.get('timeoutSeconds');
    serveWatch(ctx, res, {
      resource, ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }),
      matches: (o) => labels(o.metadata.labels ?? {}) && fields(o), resourceVersion: query.get('resourceVersion') ?? '',
      bookmarks: query.get('allowWatchBookmarks') === 'true', ...(timeout === null ? {} : { timeoutSeconds: Number(timeout) }),
    });
    return;
  }
  const call: Call = {
    resource, ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }), ...(subresource === undefined ? {} : { subresource }),
    query, body: method === 'GET' ? '' : await readBody(req),
    ...(req.headers['content-type'] === undefined ? {} : { contentType: req.headers['content-type'] }),
    ...(req.headers['user-agent'] === undefined ? {} : { userAgent: req.headers['user-agent'] }),
  };
  if (method === 'GET') return send(res, name === undefined ? list(ctx, call) : get(ctx, call));
  if (method === 'POST' && name === undefined) return send(res, create(ctx, call));
  if (method === 'PUT' && name !== undefined) return send(res, update(ctx, call));
  if (method === 'PATCH' && name !== undefined) return send(res, patch(ctx, call));
  if (method === 'DELETE' && name !== undefined) return send(res, remove(ctx, call));
  throw methodNotAllowed();
}

export function makeServer(ctx: Context, tls: Tls | undefined): Server {
  const listener: RequestListener = (req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof ApiError ? err.status : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: (err as Error).message, code: 500 };
      send(res, { code: status.code, body: status });
    });
  };
  return tls === undefined ? createServer(listener) : createTlsServer({ cert: tls.cert, key: tls.key }, listener);
}
