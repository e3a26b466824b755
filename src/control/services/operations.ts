// Operations: every change to a service runs as one, with an id, a status and progress; at most one runs per service.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BerthError, isBerthError } from '../../errors/catalogue.js';
import type { Db } from '../store/db.js';
import type { ServiceSpec } from './spec.js';

export type OperationKind = 'deploy' | 'update' | 'delete' | 'promote' | 'rollback';
export type OperationStatus = 'Running' | 'Succeeded' | 'Failed';

export const operationErrorSchema = z.object({ code: z.string(), message: z.string(), fix: z.string() });
export type OperationError = z.infer<typeof operationErrorSchema>;

export const operationSchema = z.object({
  id: z.string(),
  kind: z.enum(['deploy', 'update', 'delete', 'promote', 'rollback']),
  service: z.string(),
  status: z.enum(['Running', 'Succeeded', 'Failed']),
  generation: z.number().int().optional().describe('the generation it rolls out (deploy, update), promotes or rolls back'),
  progress: z.string().describe('what it is doing now (or did last)'),
  steps: z.array(z.object({ time: z.string(), text: z.string() })).describe('every progress line so far'),
  error: operationErrorSchema.optional(),
  started_at: z.string(),
  ended_at: z.string().optional(),
  duration_ms: z.number().describe('so far, while it runs'),
});
export type Operation = z.infer<typeof operationSchema>;

const MAX_STEPS = 100;

interface Row {
  id: string; kind: OperationKind; service: string; status: OperationStatus; generation: number | null; spec: string | null;
  progress: string; steps: string; error: string | null; started_at: string; ended_at: string | null;
}

/** The JSON form of any error, for the operation record. */
export function operationError(err: unknown): OperationError {
  if (isBerthError(err)) return { code: err.code, message: err.message, fix: err.fix };
  const e = new BerthError('INTERNAL', { detail: err instanceof Error ? err.message : String(err) });
  return { code: e.code, message: e.message, fix: e.fix };
}

export class OperationStore {
  private readonly listeners = new Set<(op: Operation) => void>();
  /** Who waits for the next change of an operation (a long-polling client). */
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(private readonly db: Db, private readonly now: () => Date) {}

  /** Calls `listener` with the operation after it begins, makes progress or finishes (the dashboard's live view); returns the unsubscribe. */
  subscribe(listener: (op: Operation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The latest operations of every service, newest first. */
  latest(limit = 100): Operation[] {
    return (this.db.prepare('SELECT * FROM operations ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit) as Row[]).map((r) => this.view(r));
  }

  /** Wakes the long-polling clients of an operation and tells the listeners it changed. */
  private notify(id: string): void {
    for (const wake of [...(this.watchers.get(id) ?? [])]) wake();
    if (this.listeners.size === 0) return;
    const op = this.get(id);
    for (const l of this.listeners) {
      try { l(op); } catch { /* a listener's failure must not fail the operation */ }
    }
  }

  /** Resolves at the operation's next progress line or end, or after `maxMs`, whichever comes first. */
  changed(id: string, maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.watchers.get(id) ?? new Set<() => void>();
      this.watchers.set(id, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.watchers.delete(id);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      set.add(done);
    });
  }

  /**
   * Records a new Running operation. The store's unique index allows one running operation per service, so a second
   * change is refused here, atomically, with the running one named.
   */
  begin(kind: OperationKind, service: string, target?: { generation: number; spec: ServiceSpec }): Operation {
    const running = this.running(service);
    if (running !== undefined) throw busy(running);
    const id = randomUUID();
    this.db
      .prepare('INSERT INTO operations (id, kind, service, status, generation, spec, progress, started_at) VALUES (?, ?, ?, \'Running\', ?, ?, ?, ?)')
      .run(id, kind, service, target?.generation ?? null, target === undefined ? null : JSON.stringify(target.spec), 'queued', this.now().toISOString());
    this.notify(id);
    return this.get(id);
  }

  get(id: string): Operation {
    const row = this.db.prepare('SELECT * FROM operations WHERE id = ?').get(id) as Row | undefined;
    if (row === undefined) throw new BerthError('OPERATION_NOT_FOUND', { operation: id });
    return this.view(row);
  }

  running(service: string): Operation | undefined {
    const row = this.db.prepare('SELECT * FROM operations WHERE service = ? AND status = \'Running\'').get(service) as Row | undefined;
    return row === undefined ? undefined : this.view(row);
  }

  allRunning(): Operation[] {
    return (this.db.prepare('SELECT * FROM operations WHERE status = \'Running\' ORDER BY started_at').all() as Row[]).map((r) => this.view(r));
  }

  /** The most recent operations on a service, newest first. */
  recent(service: string, limit = 5): Operation[] {
    return (this.db.prepare('SELECT * FROM operations WHERE service = ? ORDER BY started_at DESC, rowid DESC LIMIT ?').all(service, limit) as Row[]).map((r) => this.view(r));
  }

  /** Sets the current progress line and appends it to the steps (bounded: a long wait repeats itself). */
  progress(id: string, text: string): void {
    const step = JSON.stringify({ time: this.now().toISOString(), text });
    this.db
      .prepare(`UPDATE operations SET progress = ?, steps = CASE WHEN json_array_length(steps) < ${MAX_STEPS} THEN json_insert(steps, '$[#]', json(?)) ELSE steps END
        WHERE id = ? AND status = 'Running'`)
      .run(text, step, id);
    this.notify(id);
  }

  finish(id: string, error?: OperationError): Operation {
    this.db
      .prepare('UPDATE operations SET status = ?, error = ?, ended_at = ? WHERE id = ? AND status = \'Running\'')
      .run(error === undefined ? 'Succeeded' : 'Failed', error === undefined ? null : JSON.stringify(error), this.now().toISOString(), id);
    this.notify(id);
    return this.get(id);
  }

  private view(r: Row): Operation {
    const end = r.ended_at === null ? this.now().getTime() : Date.parse(r.ended_at);
    return {
      id: r.id, kind: r.kind, service: r.service, status: r.status,
      ...(r.generation === null ? {} : { generation: r.generation }),
      progress: r.progress,
      steps: JSON.parse(r.steps) as Operation['steps'],
      ...(r.error === null ? {} : { error: JSON.parse(r.error) as OperationError }),
      started_at: r.started_at,
      ...(r.ended_at === null ? {} : { ended_at: r.ended_at }),
      duration_ms: Math.max(0, end - Date.parse(r.started_at)),
    };
  }
}

/** The 409 for a change while `op` runs. */
export function busy(op: Operation): BerthError {
  return new BerthError('OPERATION_IN_PROGRESS', { service: op.service, kind: op.kind, operation: op.id, since: op.started_at });
}
