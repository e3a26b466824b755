// The dashboard's part of the composition root: reads the services part, the model registry and the gateway's figures, serves /ui.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../../control/api/route.js';
import type { LiveParts } from '../../control/compose-services.js';
import type { ModelVersion } from '../../control/model-schema.js';
import { shipped } from '../../core/paths.js';
import { treeRssBytes } from '../../targets/local/proc-tree.js';
import type { Decision, ModelRow, ServicePage } from '../shared/protocol.js';
import { HistoryStore } from './history.js';
import { LiveHub } from './hub.js';
import { dashboardRoutes } from './routes.js';
import { Sampler } from './sampler.js';
import type { LiveSources, ServiceFacts } from './sources.js';
import { uiHandler } from './static.js';

/** Where `npm run build` puts the built front end (Vite's output), relative to the package root. */
export const UI_ASSETS = 'dist/ui/www';

export interface DashboardParts {
  readonly live: LiveParts;
  readonly models: () => ModelVersion[];
  readonly servicesUsing: (name: string, version: number) => string[];
  readonly version: string;
  readonly now: () => number;
  readonly onError: (err: unknown) => void;
  /** The built front end; the package's own by default. */
  readonly assets?: string;
}

export interface Dashboard {
  readonly routes: Route[];
  /** Serves /ui (true) or leaves the request to the API router (false). */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Starts the 1 s history sampler, once the plane serves; it runs from then on, so a chart opened later shows what happened before. */
  start(): void;
  /** Ends open streams and stops the sampler. */
  close(): Promise<void>;
}

export function composeDashboard(p: DashboardParts): Dashboard {
  const { live } = p;
  const sources = liveSources(live, p.now);
  const history = new HistoryStore();
  const sampler = new Sampler(sources, history, p.onError);
  const hub = new LiveHub({ sources, sampler, history, version: p.version });
  const servicePage = (name: string): ServicePage => {
    const { keys: _hidden, traffic: _live, scoring_uri, operation: _latest, ...d } = live.views.detail(name);
    return {
      ...d, scoring_uri, runtime: d.spec.runtime === 'docker' ? 'docker' : 'process',
      replicas: d.replicas.map(({ url: _url, ...r }) => ({ ...r, memory: { ...r.memory, ...usedMb(r.pid) } })),
      operations: live.ops.recent(name, 10),
      events: live.events.list(name, { limit: 300 }),
    };
  };
  const decisions = (name: string, fromMs: number): Decision[] => live.events.list(name, { limit: 5000 })
    .filter((e) => e.type === 'ScalingDecision' && Date.parse(e.time) >= fromMs)
    .map((e) => ({ time: e.time, message: e.message, data: e.data ?? {} }));
  const models = (): ModelRow[] => p.models().map((m) => ({ ...m, services: p.servicesUsing(m.name, m.version) }));
  return {
    routes: dashboardRoutes({ hub, history, now: p.now, servicePage, decisions, models, operations: (limit) => live.ops.latest(limit) }),
    handle: uiHandler(p.assets ?? shipped(UI_ASSETS)),
    start: () => sampler.start(),
    async close() {
      hub.close();
      await sampler.stop();
    },
  };
}

/** Resident memory of a replica's process tree now, in MiB (what the RSS sampler enforces the limit against). */
function usedMb(pid: number | undefined): { used_mb?: number } {
  if (pid === undefined) return {};
  const bytes = treeRssBytes(pid);
  return bytes > 0 ? { used_mb: Math.round((bytes / 1048576) * 10) / 10 } : {};
}

function liveSources(live: LiveParts, now: () => number): LiveSources {
  return {
    now,
    services: () => live.store.list().map((rec): ServiceFacts => {
      const s = live.views.summary(rec);
      const spec = rec.spec;
      return {
        name: s.name, state: s.state, reason: s.reason, generation: s.generation, ready: s.ready_replicas, desired: s.desired_replicas,
        runtime: spec.runtime === 'docker' ? 'docker' : 'process', scoring_timeout_ms: spec.scoring_timeout_ms,
        autoscale: spec.autoscale_enabled ? { min: spec.autoscale_min_replicas, max: spec.autoscale_max_replicas, target: spec.autoscale_target_utilization } : null,
      };
    }),
    counts: async () => {
      const out = new Map<string, Map<number, number>>();
      const metric = live.metrics.registry.getSingleMetric('berth_gateway_requests_total');
      for (const v of metric === undefined ? [] : (await metric.get()).values) {
        const service = String(v.labels.service);
        let codes = out.get(service);
        if (codes === undefined) out.set(service, (codes = new Map()));
        codes.set(Number(v.labels.code), v.value);
      }
      return out;
    },
    latencies: (name, from, to) => live.gateway.latencies(name, from, to),
    traffic: (name) => {
      const t = live.traffic(name);
      return { p50Ms: t.latency_p50_ms, p99Ms: t.latency_p99_ms, utilization: t.utilization, inFlight: t.in_flight, queued: t.queued };
    },
    onEvent: (listener) => live.events.subscribe(listener),
    onOperation: (listener) => live.ops.subscribe(listener),
    readLog: (service, q) => live.logs.read(service, { replica: q.replica, kind: q.kind, tail: q.tail, ...(q.offset === undefined ? {} : { offset: q.offset }) })[0],
  };
}
