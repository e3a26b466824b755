// Keeps a namespaced collection in memory from a list and then a watch (an informer): bookmarks move it on, a 410 Gone lists again, a dropped watch resumes.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi, WatchEvent } from './kube-api.js';

export interface ListWatchHooks<T> {
  /** Called for every change after the first list (and for each object of a re-list that changed). */
  readonly onChange: (before: T | undefined, after: T | undefined) => void;
  /** A failure the watch could not resume from by itself (it retries after a pause). */
  readonly onError?: (err: unknown) => void;
}

/** How long to wait before watching again after the API server failed. */
const RETRY_MS = 1000;

export class ListWatch<T extends KubernetesObject> {
  private readonly items = new Map<string, T>();
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = false;
  private synced: Promise<void> | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly resource: 'pods' | 'events',
    private readonly labelSelector: string | undefined,
    private readonly hooks: ListWatchHooks<T>,
  ) {}

  /** Lists, then watches; resolves once the first list is in memory. */
  start(): Promise<void> {
    this.synced ??= this.relist().then(() => this.watch());
    return this.synced;
  }

  list(): T[] {
    return [...this.items.values()];
  }

  get(name: string): T | undefined {
    return this.items.get(name);
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async relist(): Promise<void> {
    const got = this.resource === 'pods'
      ? await this.api.listPods(this.labelSelector ?? '')
      : await this.api.listEvents();
    const seen = new Set<string>();
    for (const item of got.items as unknown as T[]) {
      const name = item.metadata?.name ?? '';
      seen.add(name);
      const before = this.items.get(name);
      this.items.set(name, item);
      if (before?.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.hooks.onChange(before, item);
    }
    for (const [name, before] of [...this.items]) {
      if (seen.has(name)) continue;
      this.items.delete(name);
      this.hooks.onChange(before, undefined);
    }
    this.resourceVersion = got.resourceVersion;
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const query: Record<string, string> = { resourceVersion: this.resourceVersion, timeoutSeconds: '300' };
    if (this.labelSelector !== undefined) query.labelSelector = this.labelSelector;
    let expired = false;
    try {
      this.abort = await this.api.watch<T>(this.resource, query, (e) => {
        if (this.on(e)) expired = true;
      }, (err: unknown) => void this.resume(err, expired));
    } catch (err) {
      void this.resume(err, false);
    }
  }

  /** One watch event; true when the server said the version is too old (410 Gone). */
  private on(e: WatchEvent<T>): boolean {
    if (e.type === 'ERROR') return (e.object as unknown as { code?: number }).code === 410;
    const rv = e.object.metadata?.resourceVersion;
    if (rv !== undefined) this.resourceVersion = rv;
    if (e.type === 'BOOKMARK') return false;
    const name = e.object.metadata?.name ?? '';
    const before = this.items.get(name);
    if (e.type === 'DELETED') this.items.delete(name);
    else this.items.set(name, e.object);
    this.hooks.onChange(before, e.type === 'DELETED' ? undefined : e.object);
    return false;
  }

  private async resume(err: unknown, expired: boolean): Promise<void> {
    if (this.stopped) return;
    const gone = expired || (err as { statusCode?: number; code?: number } | undefined)?.code === 410;
    if (err !== null && err !== undefined && !gone) {
      this.hooks.onError?.(err);
      await new Promise((r) => setTimeout(r, RETRY_MS).unref());
    }
    try {
      // Too old a version: what changed meanwhile is unknown, so everything is listed again.
      if (gone) await this.relist();
    } catch (listErr) {
      this.hooks.onError?.(listErr);
      await new Promise((r) => setTimeout(r, RETRY_MS).unref());
      return this.resume(null, true);
    }
    return this.watch();
  }
}
