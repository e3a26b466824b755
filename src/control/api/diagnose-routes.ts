// REST route of `berth diagnose`: GET /v1/services/{name}/diagnose?since=15m runs the diagnosis rules over the service's recent past.
import { z } from 'zod';
import type { Diagnoser } from '../services/diagnosis.js';
import { serviceNameSchema } from '../services/spec.js';
import { generationViewSchema } from '../services/rollout-view.js';
import { route, type Route } from './route.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
/** The longest look back: a week of events and logs is more than the stores keep anyway. */
const MAX_WINDOW_MS = 7 * 24 * 3_600_000;
const DEFAULT_WINDOW_MS = 15 * 60_000;

/** `15m`, `30s`, `2h` → milliseconds; shared by the route and the CLI so both refuse the same inputs. */
export const sinceSchema = z.string()
  .regex(/^\d{1,6}[smh]$/, 'a duration like 30s, 15m or 2h')
  .transform((v) => Number(v.slice(0, -1)) * UNIT_MS[v.slice(-1) as keyof typeof UNIT_MS])
  .pipe(z.number().int().min(1000, 'at least 1s').max(MAX_WINDOW_MS, 'at most 168h'));

export const findingSchema = z.object({
  severity: z.enum(['critical', 'error', 'warning']),
  code: z.string().describe('the error catalogue code; docs/troubleshooting.md has a section for it'),
  symptom: z.string(),
  cause: z.string(),
  evidence: z.array(z.string()).describe('log lines, numbers and events (with times) the finding rests on'),
  fix: z.string(),
});

export const diagnosisSchema = z.object({
  service: z.string(),
  since: z.string(),
  summary: z.string(),
  findings: z.array(findingSchema).describe('most severe first; empty when no problem was found'),
  numbers: z.object({
    state: z.string(), ready_replicas: z.number().int(), desired_replicas: z.number().int(), restarts: z.number().int(),
    requests: z.number().int(), request_rate: z.number(), latency_p50_ms: z.number().nullable(), latency_p99_ms: z.number().nullable(),
    errors: z.record(z.string(), z.number()), utilization: z.number().nullable(),
    generations: z.array(generationViewSchema).optional().describe('during a rollout: each generation on its own'),
  }),
});

export function diagnoseRoutes(diagnoser: Diagnoser): Route[] {
  return [
    route({
      method: 'GET', path: '/v1/services/{name}/diagnose', operationId: 'diagnoseService',
      summary: 'Diagnose a service: findings (symptom, cause, evidence, fix) from its state, events, logs and metrics, most severe first',
      params: z.object({ name: serviceNameSchema }).strict(),
      query: z.object({ since: sinceSchema.optional() }).strict(),
      responses: { 200: { description: 'the diagnosis', schema: diagnosisSchema }, 404: { description: 'no such service (SERVICE_NOT_FOUND)' } },
      handle: ({ params, query }) => ({ status: 200, json: diagnoser.run(params.name, query.since ?? DEFAULT_WINDOW_MS) }),
    }),
  ];
}
