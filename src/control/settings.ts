// The control plane's settings, parsed once at the edge (flags + env snapshot) with zod, then frozen.
import { z } from 'zod';
import { parseOrThrow } from '../core/parse-settings.js';
import { resolve } from 'node:path';
import { timerMs } from '../core/durations.js';
import { fsPathSchema } from '../core/fs-path.js';
import { resolveHome, type EnvSnapshot } from '../core/home.js';
import { DEFAULT_BODY_TIMEOUT_S, DEFAULT_MAX_REQUEST_MB, MAX_REQUEST_MB } from '../core/limits.js';
import { BerthError } from '../errors/catalogue.js';
import type { AdminTokenSource } from './admin-token.js';
import { parseRegistry } from '../images/registry-name.js';
// Only the capacity parser: the CLI loads these settings for every `up`, and the supervisor is not needed for that.
import { parseCapacity, type CapacityOverride } from '../targets/local/resources.js';

export const DEFAULT_PORT = 7070;
export const DEFAULT_HOST = '127.0.0.1';
/** How long a replica may wait for resources before its operation fails (DESIGN.md: 5 min). */
export const DEFAULT_SCHEDULE_TIMEOUT_MS = 300_000;
export const DEFAULT_RESTART_BACKOFF_MS = 10_000;
/** The back-off doubles up to 5 min (as the kubelet's does), so a longer first delay could never apply. */
export const MAX_RESTART_BACKOFF_MS = 300_000;
/** DESIGN.md: replicas are removed after about 1 min of sustained low load. */
export const DEFAULT_AUTOSCALE_STABILIZATION_MS = 60_000;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `300`, `300s`, `1500ms`, `5m`, `1h` or `00:05:00` → milliseconds; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  const hms = /^(\d+):([0-5]\d):([0-5]\d)$/.exec(t);
  if (hms) return (Number(hms[1]) * 3600 + Number(hms[2]) * 60 + Number(hms[3])) * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(t);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000));
}

/** A duration given as text or milliseconds, within `bound` (by default what a timer holds). */
const durationMs = (bound: (ms: z.ZodNumber) => z.ZodNumber = timerMs) => z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: write 300, 300s, 5m, 1500ms or 00:05:00` });
      return z.NEVER;
    }
    return ms;
  })
  .pipe(bound(z.number().int().positive('must be longer than 0')));

const schema = z
  .object({
    home: fsPathSchema,
    host: z.string().min(1),
    // 0 asks the OS for a free port; the run file records the real one.
    port: z
      .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)])
      .pipe(z.number().int().min(0).max(65535)),
    /** Overrides of the detected capacity (`--capacity cpu=…,memory_gb=…,gpu=…`), already parsed. */
    capacity: z.object({ cpu: z.number().optional(), memoryGb: z.number().optional(), gpu: z.number().optional() }).strict(),
    /** As typed, so a detached `up` can hand it on to its child unchanged. */
    capacityText: z.string().optional(),
    scheduleTimeoutMs: durationMs(),
    /** Delay before a crashed replica's first restart; it doubles up to 5 min (DESIGN.md: 10 s). */
    restartBackoffMs: durationMs((ms) => ms.max(MAX_RESTART_BACKOFF_MS, 'must be at most 5m (300000 ms): the back-off doubles up to 5 min, so a longer first delay never applies')),
    /** How long utilization must stay below target before the autoscaler removes replicas (tests use a few seconds). */
    autoscaleStabilizationMs: durationMs(),
    /** A scoring request's whole body must arrive within this (else 408); the gateway reads it before taking a replica slot. */
    bodyTimeoutMs: durationMs(),
    /** Largest scoring request body: the gateway's 413, and every replica's --max-request-size-mb. */
    maxRequestSizeMb: z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'must be a number of MiB').transform(Number)])
      .pipe(z.number().positive().max(MAX_REQUEST_MB, `must be at most ${MAX_REQUEST_MB} (2 GiB)`)),
    /** Container images: a registry to look images up in, push them to and run them from; none keeps them local. */
    registry: z.string().refine(isRegistry, 'must be HOST:PORT or HOST:PORT/NAMESPACE, e.g. 127.0.0.1:5000').optional(),
    /** A base image with python3 for container images, instead of berth's own berth/base:bookworm. */
    baseImage: z.string().min(1).max(512).optional(),
    /** Where replicas of deployments that do not name a runtime run. */
    runtime: z.enum(['process', 'docker'], 'must be process or docker'),
    /** How containers are networked: their own network with a published loopback port (bridge), or this machine's (host). */
    containerNetwork: z.enum(['bridge', 'host'], 'must be bridge or host'),
    /** A process replica's run may start from a pre-started `berth serve --standby` (targets/local/standby.ts). */
    replicaStandby: z.boolean(),
    /** Where replicas run: this machine (processes or containers), or a Kubernetes cluster. */
    target: z.enum(['local', 'kubernetes'], 'must be local or kubernetes'),
    /** The cluster, for target kubernetes. */
    kubernetes: z.object({
      kubeconfig: fsPathSchema.optional(),
      context: z.string().min(1).max(253).optional(),
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name (lower-case letters, digits, -)').max(63),
      /** No kubeconfig given and running in a pod: the service account's in-cluster configuration. */
      inCluster: z.boolean(),
      /** The control plane's URL as pods reach it (their init containers download models from it). */
      planeUrl: z.string().url('must be a URL such as http://berth.berth.svc:7070').optional(),
    }).strict().optional(),
    /** Where the admin token comes from, if given; resolveAdminToken reads or makes it (admin-token.ts). */
    adminTokenSource: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('value'), value: z.string(), from: z.enum(['--admin-token', 'BERTH_ADMIN_TOKEN']) }).strict(),
        z.object({ kind: z.literal('file'), path: z.string().min(1) }).strict(),
      ])
      .optional(),
  })
  .strict();

export type ControlSettings = Readonly<Omit<z.infer<typeof schema>, 'capacity' | 'adminTokenSource'>> & {
  readonly capacity: Readonly<CapacityOverride>;
  readonly adminTokenSource?: AdminTokenSource;
};

function isRegistry(text: string): boolean {
  try {
    parseRegistry(text);
    return true;
  } catch {
    return false;
  }
}

export interface ControlFlags {
  home?: string | undefined;
  host?: string | undefined;
  port?: string | number | undefined;
  capacity?: string | undefined;
  scheduleTimeout?: string | number | undefined;
  restartBackoff?: string | number | undefined;
  autoscaleStabilization?: string | number | undefined;
  bodyTimeout?: string | number | undefined;
  maxRequestSizeMb?: string | number | undefined;
  adminToken?: string | undefined;
  adminTokenFile?: string | undefined;
  registry?: string | undefined;
  baseImage?: string | undefined;
  runtime?: string | undefined;
  containerNetwork?: string | undefined;
  /** commander's --no-replica-standby: false. */
  replicaStandby?: boolean | undefined;
  target?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  planeUrl?: string | undefined;
}

export function parseControlSettings(flags: ControlFlags, env: EnvSnapshot): ControlSettings {
  const raw = {
    home: resolveHome(flags.home, env),
    host: flags.host ?? DEFAULT_HOST,
    port: flags.port ?? DEFAULT_PORT,
    // parseCapacity throws INVALID_CAPACITY naming the bad part, which says more than a schema issue would.
    capacity: flags.capacity === undefined ? {} : parseCapacity(flags.capacity),
    ...(flags.capacity === undefined ? {} : { capacityText: flags.capacity }),
    scheduleTimeoutMs: flags.scheduleTimeout ?? DEFAULT_SCHEDULE_TIMEOUT_MS,
    restartBackoffMs: flags.restartBackoff ?? DEFAULT_RESTART_BACKOFF_MS,
    autoscaleStabilizationMs: flags.autoscaleStabilization ?? DEFAULT_AUTOSCALE_STABILIZATION_MS,
    bodyTimeoutMs: flags.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_S * 1000,
    maxRequestSizeMb: flags.maxRequestSizeMb ?? DEFAULT_MAX_REQUEST_MB,
    adminTokenSource: adminTokenSource(flags, env),
    ...(flags.registry === undefined ? {} : { registry: flags.registry }),
    ...(flags.baseImage === undefined ? {} : { baseImage: flags.baseImage }),
    runtime: flags.runtime ?? 'process',
    containerNetwork: flags.containerNetwork ?? 'bridge',
    replicaStandby: flags.replicaStandby ?? true,
    target: flags.target ?? 'local',
    ...(flags.target === 'kubernetes' ? {
      kubernetes: {
        ...(flags.kubeconfig === undefined ? {} : { kubeconfig: resolve(flags.kubeconfig) }),
        ...(flags.context === undefined ? {} : { context: flags.context }),
        namespace: flags.namespace ?? 'berth',
        inCluster: flags.kubeconfig === undefined && env.KUBERNETES_SERVICE_HOST !== undefined,
        ...(flags.planeUrl === undefined ? {} : { planeUrl: flags.planeUrl }),
      },
    } : {}),
  };
  const names = { adminTokenSource: '--admin-token-file', port: '--port', host: '--host', home: '--home / BERTH_HOME', capacity: '--capacity', scheduleTimeoutMs: '--schedule-timeout', restartBackoffMs: '--restart-backoff', autoscaleStabilizationMs: '--autoscale-stabilization', bodyTimeoutMs: '--body-timeout', maxRequestSizeMb: '--max-request-size-mb', registry: '--registry', baseImage: '--base-image', runtime: '--runtime', containerNetwork: '--container-network', replicaStandby: '--no-replica-standby', target: '--target', kubernetes: '--kubeconfig / --context / --namespace / --plane-url' };
  const parsed = parseOrThrow(schema, raw, names);
  const { adminTokenSource: source, ...rest } = parsed;
  return Object.freeze({ ...rest, capacity: Object.freeze(parsed.capacity), ...(source === undefined ? {} : { adminTokenSource: Object.freeze(source) }) });
}

/** `--admin-token` or `--admin-token-file` (one of them), else BERTH_ADMIN_TOKEN; set but empty counts as given, and is refused later. */
function adminTokenSource(flags: ControlFlags, env: EnvSnapshot): AdminTokenSource | undefined {
  if (flags.adminToken !== undefined && flags.adminTokenFile !== undefined) {
    throw new BerthError('INVALID_SETTINGS', { field: '--admin-token / --admin-token-file', detail: 'give one of them, not both' });
  }
  if (flags.adminToken !== undefined) return { kind: 'value', value: flags.adminToken, from: '--admin-token' };
  // Absolute, so a detached `up` hands its child the same file whatever that child's working directory.
  if (flags.adminTokenFile !== undefined) return { kind: 'file', path: resolve(flags.adminTokenFile) };
  if (env.BERTH_ADMIN_TOKEN !== undefined) return { kind: 'value', value: env.BERTH_ADMIN_TOKEN, from: 'BERTH_ADMIN_TOKEN' };
  return undefined;
}
