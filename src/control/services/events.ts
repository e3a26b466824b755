// Service events: state changes, scheduling results, restarts, kills, with times; replica events from the supervisor land here too.
import { z } from 'zod';
import type { ReplicaEvent } from '../../targets/types.js';
import type { Db } from '../store/db.js';

export const serviceEventSchema = z.object({
  id: z.number().int(),
  time: z.string(),
  type: z.string().describe('Kubernetes-like reason: Scheduled, FailedScheduling, Started, Ready, BackOff, OOMKilled, ...'),
  replica: z.string().optional(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type ServiceEvent = z.infer<typeof serviceEventSchema>;

export interface NewEvent {
  readonly type: string;
  readonly message: string;
  readonly replica?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly time?: string;
}

interface Row { id: number; time: string; type: string; replica: string | null; message: string; data: string | null }

/** Events kept per service; older ones are dropped (a crash loop over days must not fill the disk). */
const KEEP_PER_SERVICE = 5000;

export class EventLog {
  private inserted = 0;
  private readonly listeners = new Set<(service: string, e: ServiceEvent) => void>();

  constructor(private readonly db: Db, private readonly now: () => Date) {}

  /** Calls `listener` after each stored event (the dashboard's live timeline, instead of polling the table); returns the unsubscribe. */
  subscribe(listener: (service: string, e: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(service: string, e: NewEvent): void {
    const time = e.time ?? this.now().toISOString();
    const data = e.data === undefined ? null : JSON.stringify(e.data);
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO events (service, time, type, replica, message, data) VALUES (?, ?, ?, ?, ?, ?)')
      .run(service, time, e.type, e.replica ?? null, e.message, data);
    if (this.listeners.size > 0) {
      const stored: ServiceEvent = { id: Number(lastInsertRowid), time, type: e.type, message: e.message, ...(e.replica === undefined ? {} : { replica: e.replica }), ...(data === null ? {} : { data: JSON.parse(data) as Record<string, unknown> }) };
      for (const l of this.listeners) {
        try { l(service, stored); } catch { /* a listener's failure must not fail the change that made the event */ }
      }
    }
    // Pruning every insert would double the writes; every 100th keeps the table within a few percent of the bound.
    if (++this.inserted % 100 === 0) {
      this.db.prepare('DELETE FROM events WHERE service = ? AND id <= (SELECT id FROM events WHERE service = ? ORDER BY id DESC LIMIT 1 OFFSET ?)')
        .run(service, service, KEEP_PER_SERVICE);
    }
  }

  /** A supervisor event, with its own fields kept as data; never throws (the supervisor's sink must not). */
  addReplicaEvent(e: ReplicaEvent): void {
    const { time, serviceName, replicaId, type, message, ...data } = e;
    try {
      this.add(serviceName, { time, type, replica: replicaId, message, data });
    } catch {
      // The store is closing or the disk is full: losing one event is better than stopping supervision.
    }
  }

  /** How long the service's last `limit` replicas took from start to ready (ms), newest first: its expected start-up. */
  recentStartupMs(service: string, limit = 5): number[] {
    const rows = this.db
      .prepare(`SELECT json_extract(data, '$.startupMs') AS ms FROM events WHERE service = ? AND type = 'Ready' AND json_extract(data, '$.startupMs') IS NOT NULL ORDER BY id DESC LIMIT ?`)
      .all(service, limit) as { ms: number }[];
    return rows.map((r) => Number(r.ms)).filter((ms) => Number.isFinite(ms) && ms >= 0);
  }

  /** The last `limit` events of a service, oldest first; `after` gives only newer ones (for following). */
  list(service: string, options: { limit?: number; after?: number } = {}): ServiceEvent[] {
    const rows = this.db
      .prepare('SELECT * FROM (SELECT id, time, type, replica, message, data FROM events WHERE service = ? AND id > ? ORDER BY id DESC LIMIT ?) ORDER BY id')
      .all(service, options.after ?? 0, options.limit ?? 500) as Row[];
    return rows.map((r) => ({
      id: r.id, time: r.time, type: r.type, message: r.message,
      ...(r.replica === null ? {} : { replica: r.replica }),
      ...(r.data === null ? {} : { data: JSON.parse(r.data) as Record<string, unknown> }),
    }));
  }
}
