// The seam between models and services: which services use a model version. The services part fills `service_models`.
import type { Db } from './store/db.js';

export interface ModelUsage {
  /** Names of the services that use `name:version`; deleting it is refused while this is non-empty. */
  servicesUsing(name: string, version: number): string[];
  /** How many services exist (for `berth status`). */
  countServices(): number;
}

/** Reads the `service_models` table. */
export class StoreModelUsage implements ModelUsage {
  constructor(private readonly db: Db) {}

  servicesUsing(name: string, version: number): string[] {
    const rows = this.db
      .prepare('SELECT service FROM service_models WHERE model_name = ? AND model_version = ? ORDER BY service')
      .all(name, version) as { service: string }[];
    return rows.map((r) => r.service);
  }

  countServices(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM services').get() as { n: number }).n;
  }
}
