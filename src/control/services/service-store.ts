// SQL for services, their placed replicas (with what a restarted control plane needs to adopt them) and the models they use.
import { BerthError } from '../../errors/catalogue.js';
import type { Db } from '../store/db.js';
import type { DeployRequest, ModelVersionRef, ServiceSpec } from './spec.js';

/** Stored states; `Settled` means "no change under way": the shown state then follows from the replicas. */
export type StoredState = 'Transitioning' | 'Unschedulable' | 'Failed' | 'Deleting' | 'Settled';

export interface ServiceRecord {
  readonly name: string;
  readonly request: DeployRequest;
  readonly spec: ServiceSpec;
  readonly generation: number;
  readonly state: StoredState;
  readonly reason: string;
  readonly primaryKey: string;
  readonly secondaryKey: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ReplicaRecord {
  readonly id: string;
  readonly service: string;
  readonly generation: number;
  readonly index: number;
  readonly pid?: number;
  readonly port?: number;
  readonly cgroupPath?: string;
}

interface ServiceRow {
  name: string; request: string; spec: string; generation: number; state: StoredState; reason: string;
  primary_key: string; secondary_key: string; created_at: string; updated_at: string;
}
interface ReplicaRow { id: string; service: string; generation: number; idx: number; pid: number | null; port: number | null; cgroup_path: string | null }

const toService = (r: ServiceRow): ServiceRecord => ({
  name: r.name, request: JSON.parse(r.request) as DeployRequest, spec: JSON.parse(r.spec) as ServiceSpec, generation: r.generation,
  state: r.state, reason: r.reason, primaryKey: r.primary_key, secondaryKey: r.secondary_key, createdAt: r.created_at, updatedAt: r.updated_at,
});

const toReplica = (r: ReplicaRow): ReplicaRecord => ({
  id: r.id, service: r.service, generation: r.generation, index: r.idx,
  ...(r.pid === null ? {} : { pid: r.pid }), ...(r.port === null ? {} : { port: r.port }), ...(r.cgroup_path === null ? {} : { cgroupPath: r.cgroup_path }),
});

export class ServiceStore {
  constructor(private readonly db: Db, private readonly now: () => Date) {}

  /** Runs `fn` in one immediate transaction (several rows that must change together). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  find(name: string): ServiceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM services WHERE name = ?').get(name) as ServiceRow | undefined;
    return row === undefined ? undefined : toService(row);
  }

  get(name: string): ServiceRecord {
    const s = this.find(name);
    if (s === undefined) throw new BerthError('SERVICE_NOT_FOUND', { service: name });
    return s;
  }

  list(): ServiceRecord[] {
    return (this.db.prepare('SELECT * FROM services ORDER BY name').all() as ServiceRow[]).map(toService);
  }

  insert(s: Omit<ServiceRecord, 'createdAt' | 'updatedAt'>): void {
    const t = this.now().toISOString();
    try {
      this.db
        .prepare('INSERT INTO services (name, request, spec, generation, state, reason, primary_key, secondary_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(s.name, JSON.stringify(s.request), JSON.stringify(s.spec), s.generation, s.state, s.reason, s.primaryKey, s.secondaryKey, t, t);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new BerthError('SERVICE_EXISTS', { service: s.name });
      throw err;
    }
  }

  /** Makes `spec` the committed version (an update that became healthy). */
  commit(name: string, request: DeployRequest, spec: ServiceSpec, generation: number): void {
    this.db.prepare('UPDATE services SET request = ?, spec = ?, generation = ?, updated_at = ? WHERE name = ?')
      .run(JSON.stringify(request), JSON.stringify(spec), generation, this.now().toISOString(), name);
  }

  /** Sets the stored state; returns the previous one (undefined when the service is gone). */
  setState(name: string, state: StoredState, reason = ''): StoredState | undefined {
    const before = this.db.prepare('SELECT state FROM services WHERE name = ?').get(name) as { state: StoredState } | undefined;
    if (before === undefined) return undefined;
    this.db.prepare('UPDATE services SET state = ?, reason = ?, updated_at = ? WHERE name = ?').run(state, reason, this.now().toISOString(), name);
    return before.state;
  }

  /** Replaces one of the service's two scoring keys; the old one stops working as soon as the gateway re-reads the service. */
  setKey(name: string, which: 'primary' | 'secondary', key: string): void {
    const column = which === 'primary' ? 'primary_key' : 'secondary_key';
    const r = this.db.prepare(`UPDATE services SET ${column} = ?, updated_at = ? WHERE name = ?`).run(key, this.now().toISOString(), name);
    if (r.changes === 0) throw new BerthError('SERVICE_NOT_FOUND', { service: name });
  }

  /** Removes the service with its replicas, model usage, events and rollout; its operations stay, so `operation show` still answers. */
  remove(name: string): void {
    this.transaction(() => {
      this.db.prepare('DELETE FROM services WHERE name = ?').run(name);
      this.db.prepare('DELETE FROM replicas WHERE service = ?').run(name);
      this.db.prepare('DELETE FROM service_models WHERE service = ?').run(name);
      this.db.prepare('DELETE FROM events WHERE service = ?').run(name);
      this.db.prepare('DELETE FROM rollouts WHERE service = ?').run(name);
    });
  }

  /** The model versions a service uses: those of its committed spec plus, during an update, the new spec's. */
  setModels(name: string, models: readonly ModelVersionRef[]): void {
    this.transaction(() => {
      this.db.prepare('DELETE FROM service_models WHERE service = ?').run(name);
      const insert = this.db.prepare('INSERT OR IGNORE INTO service_models (service, model_name, model_version) VALUES (?, ?, ?)');
      for (const m of models) insert.run(name, m.name, m.version);
    });
  }

  addReplica(r: ReplicaRecord): void {
    this.db.prepare('INSERT INTO replicas (id, service, generation, idx, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(r.id, r.service, r.generation, r.index, this.now().toISOString());
  }

  removeReplica(id: string): void {
    this.db.prepare('DELETE FROM replicas WHERE id = ?').run(id);
  }

  /** Where the replica's current run is; pid without port while it starts, nothing between runs. */
  setRunLocation(id: string, loc: { pid?: number; port?: number; cgroupPath?: string }): void {
    this.db.prepare('UPDATE replicas SET pid = ?, port = ?, cgroup_path = ? WHERE id = ?').run(loc.pid ?? null, loc.port ?? null, loc.cgroupPath ?? null, id);
  }

  replicas(service?: string): ReplicaRecord[] {
    const rows = service === undefined
      ? this.db.prepare('SELECT * FROM replicas ORDER BY service, generation, idx').all()
      : this.db.prepare('SELECT * FROM replicas WHERE service = ? ORDER BY generation, idx').all(service);
    return (rows as ReplicaRow[]).map(toReplica);
  }
}
