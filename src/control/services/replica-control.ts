// The parts every piece that starts, stops or re-adopts replicas needs (deploys, reconcile, scaling, the gateway's wiring), named once.
import type { Supervisor } from '../../targets/local/index.js';
import type { EventLog } from './events.js';
import type { OperationStore } from './operations.js';
import type { Placements } from './placement.js';
import type { ReplicaManager } from './replicas.js';
import type { ServiceStore } from './service-store.js';

export interface ReplicaControlDeps {
  readonly store: ServiceStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly supervisor: Supervisor;
  readonly placements: Placements;
  readonly replicas: ReplicaManager;
}
