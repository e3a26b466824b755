// The local target's public surface: capacity, scheduler and supervisor, for the control plane.
export { GIB, detectCapacity, parseCapacity, parseNvidiaSmi, formatResources, type Capacity, type CapacityOverride, type Resources, type DetectCapacityOptions, type GpuInfo } from './resources.js';
export { schedule, fitsMachine, freeResources, unschedulableReason, exceedsCapacityError, formatHms, schedulingTimeoutMessage, schedulingTimeoutError, type Decision, type ResourceName } from './scheduler.js';
export { Supervisor, runsFrom, verifyAdoptable, type SupervisorOptions, type AdoptResult } from './supervisor.js';
export type { StartOutcome } from './replica.js';
export { backoffDelay, defaultBackoff, RestartBackoff, type BackoffOptions } from './backoff.js';
export { detectMemoryCgroup, type CgroupSupport } from './cgroup.js';
export { replicaLogPaths, readReplicaLog, type LogKind } from './replica-logs.js';
export { parseInitError, formatInitError } from './init-error.js';
export { initFailedError, oomKilledError, oomMessage } from './messages.js';
