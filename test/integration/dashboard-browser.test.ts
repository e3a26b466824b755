// The dashboard in a real browser against a real control plane and real services: states, an init() failure, charts under load, logs, a request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, score, startPlane, stopPlane, until, type Plane } from '../helpers/services.js';
import { browserSkip, launch, openPage, screenshot, usable } from '../helpers/browser.js';

const skip = browserSkip();
let plane: Plane;
let browser: Browser;

before(async () => {
  if (skip !== false) return;
  // A short stabilisation window: the autoscaled service scales back down soon after its load.
  plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8,gpu=0', '--autoscale-stabilization', '3s', '--schedule-timeout', '10s']);
  await plane.ok(['deploy', '--name', 'healthy', '--source-dir', fixture('.'), '--entry-script', 'sum_score.py', '--replicas', '1']);
  const crashed = await plane.cli(['deploy', '--name', 'crashy', '--source-dir', fixture('.'), '--entry-script', 'init_fails.py']);
  assert.equal(crashed.code, 1, 'the init() failure fails its deployment');
  await plane.ok(['deploy', '--name', 'elastic', '--source-dir', fixture('.'), '--entry-script', 'sleep_score.py', '--min-replicas', '1', '--max-replicas', '2', '--max-request-wait-ms', '3000']);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (plane !== undefined) await stopPlane(plane);
  cleanup();
});

/** Opens `path` under /ui in a new page; the test fails on script errors or CSP violations in it. */
async function open(path: string): Promise<{ page: Page; done: (name: string) => Promise<void> }> {
  const { page, errors } = await openPage(browser);
  await page.goto(`${plane.url}/ui${path}`);
  return {
    page,
    done: async (name) => {
      const shot = await screenshot(page, name);
      await page.close();
      assert.deepEqual(errors(), [], `no script errors (screenshot: ${shot})`);
    },
  };
}

test('the services page lists a Healthy and a Failed service with their states, trouble first, usable within a second', { skip }, async (t) => {
  const { page, done } = await open('/');
  await page.locator('tr[data-service="healthy"] [data-state="Healthy"]').waitFor({ timeout: 10_000 });
  // From the start of navigation (the page's own clock) to the table rendered with the plane's services, cold cache.
  const usableMs = await usable(page);
  t.diagnostic(`services page usable ${usableMs.toFixed(0)} ms after navigation began`);
  const crashy = page.locator('tr[data-service="crashy"]');
  await crashy.locator('[data-state="Failed"]').waitFor();
  assert.match(await crashy.locator('.reason').innerText(), /ValueError: bad init at .*init_fails\.py:6/);
  const order = await page.locator('table[data-testid="services"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-service')));
  assert.deepEqual(order, ['crashy', 'elastic', 'healthy'], 'Failed first, then the healthy ones by name');
  assert.equal(await page.locator('tr[data-service="healthy"] td').nth(2).innerText(), '1/1');
  assert.ok(usableMs < 5000, `usable in ${usableMs} ms`);
  await done('dashboard-services');
});

test('the Failed service\'s page shows its init() exception with file and line, and the fix', { skip }, async () => {
  const { page, done } = await open('/');
  await page.locator('tr[data-service="crashy"] a').click();
  await page.locator('[data-testid="service-page"]').waitFor();
  const diagnose = page.locator('[data-testid="diagnose"]');
  await diagnose.locator('.finding').first().waitFor({ timeout: 15_000 });
  const text = await diagnose.innerText();
  assert.match(text, /ValueError: bad init/);
  assert.match(text, /init_fails\.py:6/);
  assert.match(text, /Fix: .*berth service logs crashy/);
  assert.match(await page.locator('[data-testid="init-error"]').first().innerText(), /ValueError: bad init at .*init_fails\.py:6/);
  assert.match(await page.locator('[data-testid="reason"]').innerText(), /crashed during init\(\)/);
  // The start-up log of the crashed replica has the traceback.
  await page.locator('[data-testid="logs"] input[type="radio"]').nth(1).check();
  await until(async () => (/File ".*init_fails\.py", line 6, in init/.test(await page.locator('[data-testid="logs"] pre').innerText()) ? true : undefined), 10_000, 'the traceback in the --init log');
  await done('dashboard-failed-service');
});

test('a service under load shows non-empty charts and a ScalingDecision marker with its numbers', { skip }, async (t) => {
  const { page, done } = await open('/services/elastic');
  await page.locator('[data-testid="chart-replicas"]').waitFor();
  const s = await plane.show('elastic');
  // Three clients back to back on 200 ms requests: more than one replica's worth, so the autoscaler adds one.
  let running = true;
  const load = Promise.all(Array.from({ length: 3 }, async () => {
    while (running) await score(s.scoring_uri, { seconds: 0.2 }, s.keys.primary).catch(() => undefined);
  }));
  try {
    await page.locator('[data-testid="chart-replicas"] .marker').first().waitFor({ state: 'attached', timeout: 30_000 });
    // A few seconds of samples, so every chart has lines to show (and the screenshot something to look at).
    await until(async () => (Number(await page.locator('[data-testid="chart-latency"]').getAttribute('data-points')) >= 8 ? true : undefined), 15_000, 'latencies in the chart');
  } finally {
    running = false;
    await load;
  }
  const attr = async (id: string, name: string): Promise<number> => Number(await page.locator(`[data-testid="${id}"]`).getAttribute(name));
  for (const id of ['chart-rps', 'chart-latency', 'chart-util', 'chart-replicas']) assert.ok(await attr(id, 'data-points') > 0, `${id} has data`);
  assert.ok(await attr('chart-rps', 'data-max') > 0, 'requests per second above zero');
  assert.ok(await attr('chart-latency', 'data-max') >= 200, 'the 200 ms requests show in the latency');
  assert.ok(Number(await page.locator('[data-testid="chart-replicas"]').getAttribute('data-max')) >= 2, 'the replica count rose');
  const marker = page.locator('[data-testid="chart-replicas"] .marker').first();
  await marker.hover();
  const tip = await marker.locator('.tip').innerText();
  t.diagnostic(tip.replace(/\n/g, ' | '));
  assert.match(tip, /1 → 2: utilization \d+% [>≥] target 70%/);
  assert.match(tip, /utilization \d+% \(target 70%\)/);
  await done('dashboard-scaling');
});

test('the logs view follows new lines of a replica', { skip }, async () => {
  const { page, done } = await open('/services/healthy');
  const logs = page.locator('[data-testid="logs"]');
  await logs.locator('select option').first().waitFor({ state: 'attached' });
  const followed = page.waitForResponse((r) => r.url().endsWith('/follow') && r.request().method() === 'PUT');
  await logs.locator('input[name="follow"]').check();
  assert.equal((await followed).status(), 200);
  const s = await plane.show('healthy');
  const marker = `rows-${Date.now()}`;
  // sum_score.py logs a line per request when the body says so; the number of rows makes it unique.
  const rows = Array.from({ length: 7 }, () => [1]);
  assert.equal((await score(s.scoring_uri, { log: true, data: rows, marker }, s.keys.primary)).status, 200);
  await until(async () => (/sum_score run called with 7 rows/.test(await logs.locator('pre').innerText()) ? true : undefined), 10_000, 'the new log line in the followed view');
  await done('dashboard-logs-follow');
});

test('the request form scores through the gateway and shows status, body, headers and the request id', { skip }, async () => {
  const { page, done } = await open('/services/healthy');
  const form = page.locator('[data-testid="request-form"]');
  await form.locator('textarea').fill('{"data": [[1, 2, 3], [4, 5]]}');
  const scored = page.waitForResponse((r) => r.url().endsWith('/api/v1/service/healthy/score'));
  await form.locator('button[type="submit"]').click();
  const res = await scored;
  const result = page.locator('[data-testid="request-result"]');
  await result.waitFor();
  assert.match(await result.locator('[data-testid="response-status"]').innerText(), /^200/);
  const id = await result.locator('[data-testid="request-id"]').innerText();
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(id, await res.headerValue('x-request-id'));
  assert.match(await result.locator('pre.body').innerText(), /"result": \[\s*6,\s*9\s*\]/);
  // The key was used, never shown: the keys stay hidden until asked for.
  assert.equal(await page.locator('[data-testid="primary-key"]').count(), 0);
  await page.locator('[data-testid="keys"] button').click();
  assert.equal(await page.locator('[data-testid="primary-key"]').innerText(), (await plane.show('healthy')).keys.primary);
  await done('dashboard-request');
});
