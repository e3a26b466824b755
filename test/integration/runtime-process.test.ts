// The replica runtime contract, run against the process runtime (the embedded default).
import { fixtureSpec, testSupervisor } from '../helpers/local-target.js';
import { replicaRuntimeContract } from '../contract/replica-runtime.js';

replicaRuntimeContract({
  name: 'process',
  skip: () => Promise.resolve(undefined),
  supervisor: (o = {}) => testSupervisor(o.backoffMs === undefined ? {} : { backoff: { baseMs: o.backoffMs, capMs: o.backoffMs * 4, resetAfterMs: 60_000 } }),
  spec: (script, overrides = {}) => Promise.resolve(fixtureSpec(script, overrides)),
});
