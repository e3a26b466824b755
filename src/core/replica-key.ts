// Per-replica keys: the gateway proves itself to a replica's /score and scoring channel, so local processes cannot skip a service's keys.
import { createHmac } from 'node:crypto';

/** The header the gateway sends the key in; the gateway drops it from client requests, a replica strips it before run(). */
export const REPLICA_KEY_HEADER = 'x-berth-replica-key';
/** How `berth serve` is given its key: an environment variable, not a flag, so it does not show in the process list. */
export const REPLICA_KEY_ENV = 'BERTH_REPLICA_KEY';

/** Derives each replica's key from one secret of the control plane, so a restarted plane knows the keys of the replicas it adopts. */
export class ReplicaKeys {
  constructor(private readonly secret: Uint8Array) {}

  keyFor(replicaId: string): string {
    return createHmac('sha256', this.secret).update(`replica:${replicaId}`).digest('base64url');
  }
}
