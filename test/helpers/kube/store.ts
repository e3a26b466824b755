// The stand-in's storage: objects by resource/namespace/name, one resourceVersion counter, and a bounded history for watches.
import { randomUUID } from 'node:crypto';
import type { ResourceInfo } from './resources.js';
import { clone, now, type KObject } from './types.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  readonly rv: number;
  readonly type: ChangeType;
  readonly resource: ResourceInfo;
  readonly object: KObject;
  /** The object before this change (MODIFIED, DELETED): label-filtered watches need it. */
  readonly prev?: KObject;
}

const keyOf = (r: ResourceInfo, ns: string | undefined, name: string): string => `${r.group}/${r.resource}/${r.namespaced ? ns ?? '' : ''}/${name}`;

export class Store {
  private readonly objects = new Map<string, KObject>();
  private rv = 100;
  private readonly history: Change[] = [];
  /** Changes with a resourceVersion above this are still in the history; watching from below it is `410 Gone`. */
  private compactedThrough = 0;
  private readonly listeners = new Set<(c: Change) => void>();
  private readonly pending: Change[] = [];
  private dispatching = false;

  constructor(private readonly historyLimit: number) {}

  currentRv(): string {
    return String(this.rv);
  }

  /** The oldest resourceVersion a watch may start from. */
  oldestWatchable(): number {
    return this.compactedThrough;
  }

  get(r: ResourceInfo, ns: string | undefined, name: string): KObject | undefined {
    return clone(this.objects.get(keyOf(r, ns, name)));
  }

  list(r: ResourceInfo, ns?: string): KObject[] {
    const prefix = `${r.group}/${r.resource}/${ns === undefined || !r.namespaced ? '' : `${ns}/`}`;
    const out: KObject[] = [];
    for (const [k, v] of this.objects) if (k.startsWith(prefix)) out.push(clone(v));
    return out.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`));
  }

  /** Stores a new object: uid, creationTimestamp, resourceVersion (and generation 1 where counted). */
  create(r: ResourceInfo, obj: KObject): KObject {
    const o = clone(obj);
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp = now();
    if (r.generation) o.metadata.generation = 1;
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(keyOf(r, o.metadata.namespace, o.metadata.name ?? ''), o);
    this.record({ rv: this.rv, type: 'ADDED', resource: r, object: clone(o) });
    return clone(o);
  }

  /** Replaces a stored object (identity fields kept); the caller decides that something changed. */
  update(r: ResourceInfo, obj: KObject): KObject {
    const key = keyOf(r, obj.metadata.namespace, obj.metadata.name ?? '');
    const prev = this.objects.get(key);
    if (prev === undefined) throw new Error(`update of a missing object ${key}`);
    const o = clone(obj);
    o.metadata.uid = prev.metadata.uid;
    o.metadata.creationTimestamp = prev.metadata.creationTimestamp;
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, o);
    this.record({ rv: this.rv, type: 'MODIFIED', resource: r, object: clone(o), prev: clone(prev) });
    return clone(o);
  }

  remove(r: ResourceInfo, ns: string | undefined, name: string): KObject | undefined {
    const key = keyOf(r, ns, name);
    const prev = this.objects.get(key);
    if (prev === undefined) return undefined;
    this.objects.delete(key);
    const o = clone(prev);
    o.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: 'DELETED', resource: r, object: clone(o), prev: clone(prev) });
    return o;
  }

  /** Changes after `rv`, or 'expired' when some of them were dropped from the bounded history. */
  since(rv: number): Change[] | 'expired' {
    if (rv < this.compactedThrough) return 'expired';
    return this.history.filter((c) => c.rv > rv);
  }

  subscribe(fn: (c: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Drops every change kept so far (tests use it to provoke `410 Gone` at once). */
  compact(): void {
    this.compactedThrough = this.rv;
    this.history.length = 0;
  }

  private record(c: Change): void {
    this.history.push(c);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped !== undefined) this.compactedThrough = dropped.rv;
    }
    // Changes made by listeners are delivered after the current one reached everybody: watchers see them in order.
    this.pending.push(c);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
        for (const fn of [...this.listeners]) {
          try {
            fn(next);
          } catch (err) {
            process.emitWarning(`kube stand-in listener failed: ${(err as Error).stack ?? String(err)}`);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }
}
