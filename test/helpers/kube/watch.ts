// Watches: a stream of `{type, object}` lines from a resourceVersion, label/field filtered (objects leaving the selection
// arrive as DELETED), periodic BOOKMARKs when asked, `410 Gone` as an ERROR event for versions older than the history,
// and timeoutSeconds.
import type { ServerResponse } from 'node:http';
import type { Context } from './context.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import type { Change } from './store.js';
import { ApiError, type KObject } from './types.js';
import { gone } from './status.js';

export interface WatchRequest {
  readonly resource: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly matches: (o: KObject) => boolean;
  readonly resourceVersion: string;
  readonly bookmarks: boolean;
  readonly timeoutSeconds?: number;
}

export function serveWatch(ctx: Context, res: ServerResponse, w: WatchRequest): void {
  const r = w.resource;
  const inScope = (o: KObject): boolean => (w.namespace === undefined || o.metadata.namespace === w.namespace) && (w.name === undefined || o.metadata.name === w.name);
  const selected = (o: KObject | undefined): boolean => o !== undefined && inScope(o) && w.matches(o);
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  ctx.watches.add(res);
  const send = (type: string, object: unknown): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const withKind = (o: KObject): KObject => ({ ...o, apiVersion: apiVersionOf(r), kind: r.kind });

  const onChange = (c: Change): void => {
    if (c.resource !== r) return;
    const now = selected(c.object);
    const before = c.prev !== undefined && selected(c.prev);
    if (c.type === 'DELETED') {
      if (before) send('DELETED', withKind(c.object));
    } else if (now && (c.type === 'ADDED' || !before)) send('ADDED', withKind(c.object));
    else if (now) send('MODIFIED', withKind(c.object));
    else if (before) send('DELETED', withKind(c.object));
  };

  const rv = w.resourceVersion;
  if (rv === '' || rv === '0') {
    for (const o of ctx.store.list(r, w.namespace)) if (selected(o)) send('ADDED', withKind(o));
  } else {
    const n = Number(rv);
    const changes = Number.isInteger(n) ? ctx.store.since(n) : 'invalid';
    if (changes === 'invalid') {
      end(new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `invalid resource version: ${rv}`, reason: 'BadRequest', code: 400 }));
      return;
    }
    if (changes === 'expired') {
      end(gone(`too old resource version: ${rv} (${ctx.store.oldestWatchable()})`));
      return;
    }
    for (const c of changes) onChange(c);
  }
  const unsubscribe = ctx.store.subscribe(onChange);
  const bookmark = w.bookmarks
    ? setInterval(() => send('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: ctx.store.currentRv(), creationTimestamp: null } }), ctx.bookmarkIntervalMs)
    : undefined;
  const timeout = w.timeoutSeconds === undefined ? undefined : setTimeout(() => finish(), w.timeoutSeconds * 1000);
  function finish(): void {
    unsubscribe();
    if (bookmark !== undefined) clearInterval(bookmark);
    if (timeout !== undefined) clearTimeout(timeout);
    ctx.watches.delete(res);
    if (!res.writableEnded) res.end();
  }
  function end(err: ApiError): void {
    send('ERROR', err.status);
    ctx.watches.delete(res);
    res.end();
  }
  res.on('close', finish);
}
