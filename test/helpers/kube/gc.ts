// The garbage collector and namespace controller: dependents of deleted owners go (Background), owners in foreground
// deletion wait for their dependents, orphaning strips ownerReferences, terminating namespaces are emptied then removed.
import { dropFinalizer, deleteObject } from './delete.js';
import { NAMESPACES, RESOURCES, type ResourceInfo } from './resources.js';
import type { Change, Store } from './store.js';
import type { KObject } from './types.js';

export class GarbageCollector {
  private scheduled = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly store: Store) {
    this.unsubscribe = store.subscribe((c) => this.onChange(c));
  }

  stop(): void {
    this.unsubscribe();
  }

  private onChange(c: Change): void {
    if (c.type === 'ADDED' && c.object.metadata.deletionTimestamp === undefined && c.resource !== NAMESPACES) return;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.sweep();
    });
  }

  private all(): { r: ResourceInfo; o: KObject }[] {
    return RESOURCES.filter((r) => r.namespaced).flatMap((r) => this.store.list(r).map((o) => ({ r, o })));
  }

  private sweep(): void {
    const everything = this.all();
    const uids = new Set(everything.map((x) => x.o.metadata.uid));
    for (const { r, o } of everything) {
      const owners = o.metadata.ownerReferences ?? [];
      // Background: the owner is gone, so are its dependents.
      if (owners.length > 0 && owners.every((ref) => !uids.has(ref.uid)) && o.metadata.deletionTimestamp === undefined) {
        this.safeDelete(r, o, 'Background');
      }
    }
    for (const { r, o } of everything) {
      const fin = o.metadata.finalizers ?? [];
      if (o.metadata.deletionTimestamp === undefined) continue;
      const dependents = everything.filter((x) => (x.o.metadata.ownerReferences ?? []).some((ref) => ref.uid === o.metadata.uid));
      if (fin.includes('orphan')) {
        for (const d of dependents) {
          const next = { ...d.o, metadata: { ...d.o.metadata, ownerReferences: (d.o.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== o.metadata.uid) } };
          this.store.update(d.r, next);
        }
        dropFinalizer(this.store, r, o, 'orphan');
      } else if (fin.includes('foregroundDeletion')) {
        for (const d of dependents) if (d.o.metadata.deletionTimestamp === undefined) this.safeDelete(d.r, d.o, 'Foreground');
        if (dependents.length === 0) dropFinalizer(this.store, r, o, 'foregroundDeletion');
      }
    }
    for (const ns of this.store.list(NAMESPACES)) {
      if (ns.metadata.deletionTimestamp === undefined) continue;
      const inside = everything.filter((x) => x.o.metadata.namespace === ns.metadata.name);
      for (const x of inside) if (x.o.metadata.deletionTimestamp === undefined) this.safeDelete(x.r, x.o, 'Background');
      if (inside.length === 0) this.store.remove(NAMESPACES, undefined, ns.metadata.name ?? '');
    }
  }

  private safeDelete(r: ResourceInfo, o: KObject, policy: string): void {
    try {
      deleteObject(this.store, r, o.metadata.namespace, o.metadata.name ?? '', { propagationPolicy: policy });
    } catch {
      // Already gone.
    }
  }
}
