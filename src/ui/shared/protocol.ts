// What the dashboard's routes and live stream carry: zod schemas (for the plane's OpenAPI document) and their types (for the browser).
import { z } from 'zod';
import { SAMPLE_FIELDS, type SampleField } from './series.js';

export { RANGES, type RangeName } from './series.js';

const num = z.number();
const maybe = z.number().nullable();

export const sampleSchema = z.object({ t: num, ...Object.fromEntries(SAMPLE_FIELDS.map((f) => [f, maybe])) as Record<SampleField, typeof maybe> });

export const columnsSchema = z.object({ t: z.array(num), ...Object.fromEntries(SAMPLE_FIELDS.map((f) => [f, z.array(maybe)])) as Record<SampleField, z.ZodArray<typeof maybe>> })
  .describe('one array per field, aligned on t (ms since the epoch, the end of each sample\'s span); null = nothing measured');

export const SERVICE_STATES = ['Transitioning', 'Healthy', 'Unhealthy', 'Unschedulable', 'Failed', 'Deleting'] as const;

export const serviceRowSchema = z.object({
  name: z.string(),
  state: z.enum(SERVICE_STATES),
  reason: z.string(),
  generation: z.number().int(),
  ready: z.number().int(),
  desired: z.number().int(),
  runtime: z.enum(['process', 'docker']),
  autoscale: z.object({ min: z.number().int(), max: z.number().int(), target: num }).nullable().describe('null with a fixed replica count'),
  scoring_timeout_ms: num,
  traffic: z.object({
    rps: num.describe('requests per second over the last 10 s'),
    error_rate: maybe.describe('5xx share of the last 10 s (0–1); null without requests'),
    p50_ms: maybe.describe('over the gateway\'s last minute'),
    p99_ms: maybe,
    utilization: maybe.describe('percent, at the autoscaler\'s last sample'),
    in_flight: z.number().int(),
    queued: z.number().int(),
  }),
  sample: sampleSchema.nullable().describe('the latest 1 s sample'),
});

export const helloSchema = z.object({ stream: z.string().describe('this connection\'s id, for following logs on it'), version: z.string(), interval_ms: num, time: num });
export const snapshotSchema = z.object({
  time: num,
  services: z.array(serviceRowSchema),
  sparklines: z.record(z.string(), z.array(num)).describe('each service\'s total req/s over the last 2 minutes, oldest first'),
});
export const tickSchema = z.object({ time: num, services: z.array(serviceRowSchema) });

export const serviceEventSchema = z.object({
  id: z.number().int(), time: z.string(), type: z.string(), replica: z.string().optional(), message: z.string(), data: z.record(z.string(), z.unknown()).optional(),
});
export const liveEventSchema = z.object({ service: z.string(), event: serviceEventSchema });

export const operationSchema = z.object({
  id: z.string(),
  kind: z.enum(['deploy', 'update', 'delete', 'promote', 'rollback']),
  service: z.string(),
  status: z.enum(['Running', 'Succeeded', 'Failed']),
  generation: z.number().int().optional(),
  progress: z.string(),
  steps: z.array(z.object({ time: z.string(), text: z.string() })),
  error: z.object({ code: z.string(), message: z.string(), fix: z.string() }).optional(),
  started_at: z.string(),
  ended_at: z.string().optional(),
  duration_ms: num,
});

export const logKindSchema = z.enum(['current', 'previous', 'init']);
export const logChunkSchema = z.object({ replica: z.string(), kind: logKindSchema, text: z.string(), offset: z.number().int(), size: z.number().int() });
export const liveLogSchema = logChunkSchema.extend({ service: z.string() });

export const replicaRowSchema = z.object({
  id: z.string(),
  index: z.number().int(),
  generation: z.number().int(),
  state: z.string(),
  restarts: z.number().int(),
  pid: z.number().int().optional(),
  started_at: z.string().optional(),
  ready_at: z.string().optional(),
  next_restart_at: z.string().optional(),
  last_termination: z.object({ reason: z.string(), exit_code: z.number().nullable(), signal: z.string().nullable(), at: z.string(), message: z.string() }).optional(),
  last_init_error: z.string().optional(),
  memory: z.object({ enforcement: z.string(), limit_mb: num.optional(), used_mb: num.optional().describe('resident memory of its process tree (or its cgroup) now') }),
});

export const servicePageSchema = z.object({
  name: z.string(),
  state: z.enum(SERVICE_STATES),
  reason: z.string(),
  generation: z.number().int(),
  ready_replicas: z.number().int(),
  desired_replicas: z.number().int(),
  scoring_uri: z.string(),
  swagger_uri: z.string(),
  auth: z.enum(['key', 'token', 'none']),
  runtime: z.enum(['process', 'docker']),
  spec: z.record(z.string(), z.unknown()).describe('the normalised spec of the running version'),
  created_at: z.string(),
  updated_at: z.string(),
  replicas: z.array(replicaRowSchema),
  operations: z.array(operationSchema).describe('the latest first; a running one is the first'),
  events: z.array(serviceEventSchema).describe('the last 300, oldest first'),
}).describe('a service as the dashboard shows it; its keys are left out (GET /v1/services/{name}/keys reveals them)');

export const rangeSchema = z.enum(['15m', '1h', '6h']);

export const decisionSchema = z.object({ time: z.string(), message: z.string(), data: z.record(z.string(), z.unknown()) });
export const historySchema = z.object({
  range: rangeSchema,
  step_ms: num,
  from: num,
  to: num,
  columns: columnsSchema,
  decisions: z.array(decisionSchema).describe('ScalingDecision events in the range, with their numbers'),
});

export const modelRowSchema = z.object({
  name: z.string(), version: z.number().int(), description: z.string(), tags: z.record(z.string(), z.string()), size: num, file_count: z.number().int(), created_at: z.string(),
  services: z.array(z.string()).describe('services that mount it'),
});

export type Sample = z.infer<typeof sampleSchema>;
export type ServiceRow = z.infer<typeof serviceRowSchema>;
export type ServiceStateName = (typeof SERVICE_STATES)[number];
export type Hello = z.infer<typeof helloSchema>;
export type Snapshot = z.infer<typeof snapshotSchema>;
export type Tick = z.infer<typeof tickSchema>;
export type ServiceEventView = z.infer<typeof serviceEventSchema>;
export type LiveEvent = z.infer<typeof liveEventSchema>;
export type OperationView = z.infer<typeof operationSchema>;
export type LogKind = z.infer<typeof logKindSchema>;
export type LogChunkView = z.infer<typeof logChunkSchema>;
export type LiveLog = z.infer<typeof liveLogSchema>;
export type ReplicaRow = z.infer<typeof replicaRowSchema>;
export type ServicePage = z.infer<typeof servicePageSchema>;
export type Decision = z.infer<typeof decisionSchema>;
export type History = z.infer<typeof historySchema>;
export type ModelRow = z.infer<typeof modelRowSchema>;

/** The live stream's messages by event name. */
export interface StreamMessages {
  hello: Hello;
  snapshot: Snapshot;
  tick: Tick;
  event: LiveEvent;
  operation: OperationView;
  log: LiveLog;
}
