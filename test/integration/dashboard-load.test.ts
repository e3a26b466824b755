// The dashboard keeps up with 20 busy services at one update a second: the real hub, routes and page, fed by synthetic traffic.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { createApiServer } from '../../src/control/api/server.js';
import { shipped } from '../../src/core/paths.js';
import { UI_ASSETS } from '../../src/ui/server/compose.js';
import { HistoryStore } from '../../src/ui/server/history.js';
import { LiveHub } from '../../src/ui/server/hub.js';
import { dashboardRoutes } from '../../src/ui/server/routes.js';
import { Sampler } from '../../src/ui/server/sampler.js';
import { uiHandler } from '../../src/ui/server/static.js';
import type { LiveSources, ServiceFacts } from '../../src/ui/server/sources.js';
import { latenciesOf, type RecentRequest } from '../helpers/recent-requests.js';
import type { ServicePage } from '../../src/ui/shared/protocol.js';
import type { Sample } from '../../src/ui/shared/series.js';
import { browserSkip, launch, openPage, screenshot, usable } from '../helpers/browser.js';

const SERVICES = 20;
const SECONDS = 20;

/** 20 services with traffic that changes every second: rates, a few errors, latencies, utilization and replicas. */
function syntheticPlane(): { sources: LiveSources; history: HistoryStore; page: (name: string) => ServicePage } {
  const names = Array.from({ length: SERVICES }, (_, i) => `model-${String(i).padStart(2, '0')}`);
  const counters = new Map(names.map((n) => [n, new Map<number, number>([[200, 0], [400, 0], [503, 0]])]));
  const windows = new Map<string, RecentRequest[]>();
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const facts = (n: string, i: number): ServiceFacts => ({
    name: n, state: i === 3 ? 'Failed' : i === 5 ? 'Unhealthy' : 'Healthy', reason: i === 3 ? 'replica model-03-1-0-aaaaaa crashed during init(): ValueError: bad init at score.py:6 (CrashLoopBackOff)' : '',
    generation: 1, ready: 1 + (i % 3), desired: 1 + (i % 3), runtime: 'process', scoring_timeout_ms: 5000, autoscale: i % 2 === 0 ? { min: 1, max: 4, target: 70 } : null,
  });
  const sources: LiveSources = {
    now: () => Date.now(),
    services: () => names.map(facts),
    counts: async () => {
      const now = Date.now();
      names.forEach((n, i) => {
        const c = counters.get(n)!;
        const ok = Math.round(20 + 80 * rnd() + i * 5);
        c.set(200, c.get(200)! + ok);
        c.set(400, c.get(400)! + (rnd() < 0.3 ? 1 : 0));
        c.set(503, c.get(503)! + (rnd() < 0.2 ? 2 : 0));
        windows.set(n, Array.from({ length: Math.min(ok, 200) }, (_, k) => ({ atMs: now - k * 4, status: 200, ms: 2 + 30 * rnd() ** 3 })));
      });
      return new Map([...counters].map(([k, v]) => [k, new Map(v)]));
    },
    latencies: (n, from, to) => latenciesOf(windows.get(n) ?? [], from, to),
    traffic: () => ({ p50Ms: 5 + rnd() * 5, p99Ms: 20 + rnd() * 30, utilization: Math.round(rnd() * 100), inFlight: Math.round(rnd() * 3), queued: 0 }),
    onEvent: () => () => undefined,
    onOperation: () => () => undefined,
    readLog: (_s, q) => ({ replica: q.replica, kind: q.kind, text: 'ready\n', offset: 0, size: 6 }),
  };
  // Fifteen minutes of history already there: the charts start full (900 points a series).
  const history = new HistoryStore();
  const start = Date.now() - 900_000;
  for (let s = 0; s < 900; s++) {
    for (const n of names) {
      const sample: Sample = { t: start + s * 1000, rps2xx: 50 + 40 * Math.sin(s / 60), rps4xx: rnd() < 0.1 ? 1 : 0, rps5xx: rnd() < 0.05 ? 2 : 0, p50: 5 + rnd() * 3, p99: 20 + rnd() * 40, util: 50 + 30 * Math.sin(s / 90), inflight: 1, queued: 0, ready: 2, desired: 2 };
      history.add(n, sample);
    }
  }
  const page = (name: string): ServicePage => ({
    name, state: 'Healthy', reason: '', generation: 1, ready_replicas: 2, desired_replicas: 2, scoring_uri: `http://127.0.0.1/api/v1/service/${name}/score`,
    swagger_uri: '', auth: 'key', runtime: 'process', spec: { entry_script: 'score.py', autoscale_enabled: true, autoscale_min_replicas: 1, autoscale_max_replicas: 4, autoscale_target_utilization: 70 },
    created_at: new Date(start).toISOString(), updated_at: new Date(start).toISOString(), operations: [], events: [],
    replicas: [0, 1].map((i) => ({ id: `${name}-1-${i}-abcdef`, index: i, generation: 1, state: 'Ready', restarts: 0, memory: { enforcement: 'rss', limit_mb: 512, used_mb: 90 + i } })),
  });
  return { sources, history, page };
}

/** Main-thread time (task, script, layout) the page spent over `seconds`, from Chrome's own counters, and the per-update measures. */
async function measure(page: Page, seconds: number): Promise<{ busyMsPerS: number; updates: number; meanMs: number; maxMs: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async (): Promise<number> => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
  };
  await page.evaluate(() => performance.clearMeasures('berth:tick-work'));
  const before = await read();
  await page.waitForTimeout(seconds * 1000);
  const busy = (await read()) - before;
  const ticks = await page.evaluate(() => performance.getEntriesByName('berth:tick-work').map((e) => e.duration));
  await cdp.detach();
  return { busyMsPerS: busy / seconds, updates: ticks.length, meanMs: ticks.reduce((a, b) => a + b, 0) / Math.max(1, ticks.length), maxMs: Math.max(0, ...ticks) };
}

test(`the services page and a service's charts keep up with one update a second for ${SERVICES} services`, { skip: browserSkip(), timeout: 180_000 }, async (t) => {
  const { sources, history, page: servicePage } = syntheticPlane();
  const sampler = new Sampler(sources, history);
  const hub = new LiveHub({ sources, sampler, history, version: 'load-test' });
  const routes = dashboardRoutes({ hub, history, now: () => Date.now(), servicePage, decisions: () => [], models: () => [], operations: () => [] });
  const ui = uiHandler(shipped(UI_ASSETS));
  const server = createApiServer(routes, { logger: pino({ level: 'silent' }), fastPath: ui });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sampler.start();
  after(async () => { hub.close(); await sampler.stop(); server.closeAllConnections(); server.close(); });

  // The sampler's own cost per tick for 20 services (it runs whether or not a tab is open), on a copy of the plane:
  // ticks this close together would make the served history's rates meaningless.
  const bench = syntheticPlane();
  const benchSampler = new Sampler(bench.sources, bench.history);
  const runs: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    await benchSampler.tick();
    runs.push(performance.now() - t0);
  }
  t.diagnostic(`sampler tick for ${SERVICES} services: median ${runs.sort((a, b) => a - b)[10]!.toFixed(2)} ms; history ${(bench.history.bytes / 1024).toFixed(0)} KB`);

  const browser = await launch();
  after(() => browser.close());
  const { page, errors } = await openPage(browser);
  await page.goto(`${base}/ui/`);
  await page.locator(`tr[data-service="model-${String(SERVICES - 1).padStart(2, '0')}"]`).waitFor({ timeout: 10_000 });
  t.diagnostic(`services page with ${SERVICES} services usable ${(await usable(page)).toFixed(0)} ms after navigation began`);
  assert.equal(await page.locator('table[data-testid="services"] tbody tr').count(), SERVICES);
  assert.equal(await page.locator('table[data-testid="services"] tbody tr').first().getAttribute('data-service'), 'model-03', 'the Failed one first');
  const list = await measure(page, SECONDS);
  t.diagnostic(`services page: ${list.updates} updates in ${SECONDS} s, ${list.meanMs.toFixed(1)} ms mean (max ${list.maxMs.toFixed(1)} ms) each, main thread busy ${list.busyMsPerS.toFixed(1)} ms/s`);
  await screenshot(page, 'dashboard-load-services');

  await page.goto(`${base}/ui/services/model-07`);
  await page.locator('[data-testid="chart-rps"][data-points]').waitFor();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-latency"]')?.getAttribute('data-points')) > 1500);
  const charts = await measure(page, SECONDS);
  t.diagnostic(`service page (4 charts, 900 points a series): ${charts.updates} updates in ${SECONDS} s, ${charts.meanMs.toFixed(1)} ms mean (max ${charts.maxMs.toFixed(1)} ms) each, main thread busy ${charts.busyMsPerS.toFixed(1)} ms/s`);
  await screenshot(page, 'dashboard-load-charts');

  // Keeping up: (nearly) every second's update was received and rendered, each in a small part of its second.
  for (const [what, m] of [['services page', list], ['charts', charts]] as const) {
    assert.ok(m.updates >= SECONDS - 3, `${what}: ${m.updates} updates rendered in ${SECONDS} s`);
    assert.ok(m.meanMs < 250 && m.busyMsPerS < 500, `${what}: ${m.meanMs} ms per update, ${m.busyMsPerS} ms/s busy`);
  }
  assert.deepEqual(errors(), []);
});
