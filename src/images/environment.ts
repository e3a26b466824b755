// A berth environment version as an image input: what the deployments part hands ensure() for a service's environment.
import type { EnvRef } from '../control/environments/env-schema.js';
import type { Environments } from '../control/environments/environments.js';
import type { ImageEnvironment } from './plan.js';

/** The version's reference, build digest and spec (the latest version when none is given); throws ENVIRONMENT_NOT_FOUND. */
export function imageEnvironment(environments: Environments, ref: EnvRef): ImageEnvironment {
  const record = environments.store.get(ref);
  return { ref: `${record.name}:${record.version}`, digest: record.digest, spec: record.spec };
}
