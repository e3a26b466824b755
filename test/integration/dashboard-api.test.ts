// The dashboard's plane side over HTTP, without a browser: /ui files, the live stream (ticks, events, operations), history, models, operations.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, score, startPlane, stopPlane, until } from '../helpers/services.js';
import { SseParser, type SseMessage } from '../../src/ui/shared/sse.js';
import type { History, LiveEvent, ModelRow, OperationView, ServicePage, Snapshot, Tick } from '../../src/ui/shared/protocol.js';

after(cleanup);

/** Reads a live stream into `messages` until aborted. */
function follow(url: string): { messages: SseMessage[]; stop: () => void; done: Promise<void> } {
  const ctl = new AbortController();
  const messages: SseMessage[] = [];
  const done = (async () => {
    const res = await fetch(url, { signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.match(res.headers.get('cache-control') ?? '', /no-cache/);
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) messages.push(...parser.push(decoder.decode(chunk as Uint8Array, { stream: true })));
  })().catch((err: unknown) => { if (!ctl.signal.aborted) throw err; });
  return { messages, stop: () => ctl.abort(), done };
}

test('the plane serves /ui and streams the services, their traffic, events and operations live; history and lists by route', async (t) => {
  const plane = await startPlane(['--capacity', 'cpu=2,memory_gb=4,gpu=0']);
  t.after(() => stopPlane(plane));
  const page = await fetch(`${plane.url}/ui/services/anything`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<div id="app">/);

  const live = follow(`${plane.url}/v1/dashboard/stream`);
  await until(() => (live.messages.length >= 2 ? true : undefined), 10_000, 'hello and snapshot');
  assert.deepEqual(live.messages.slice(0, 2).map((m) => m.event), ['hello', 'snapshot']);
  assert.deepEqual((JSON.parse(live.messages[1]!.data) as Snapshot).services, []);

  await plane.ok(['model', 'register', '--name', 'sum-model', '--path', fixture('models/sum-model/1/weights.json')]);
  await plane.ok(['deploy', '--name', 'adder', '--source-dir', fixture('.'), '--entry-script', 'sum_score.py', '--replicas', '1', '--model', 'sum-model:1']);
  // Events and operation steps arrived as they happened, pushed from the event log and the operation store.
  const events = live.messages.filter((m) => m.event === 'event').map((m) => JSON.parse(m.data) as LiveEvent);
  for (const type of ['OperationStarted', 'Scheduled', 'Started', 'Ready', 'OperationSucceeded']) assert.ok(events.some((e) => e.service === 'adder' && e.event.type === type), `${type} in ${events.map((e) => e.event.type).join(', ')}`);
  const ops = live.messages.filter((m) => m.event === 'operation').map((m) => JSON.parse(m.data) as OperationView);
  assert.equal(ops[0]?.status, 'Running');
  assert.equal(ops.at(-1)?.status, 'Succeeded');
  assert.ok(ops.at(-1)!.steps.length >= 2);

  const s = await plane.show('adder');
  for (let i = 0; i < 20; i++) assert.equal((await score(s.scoring_uri, { data: [[1, 2]] }, s.keys.primary)).status, 200);
  assert.equal((await score(s.scoring_uri, { data: [[1]] }, 'wrong-key')).status, 401);
  const ticked = await until(() => {
    const ticks = live.messages.filter((m) => m.event === 'tick').map((m) => JSON.parse(m.data) as Tick);
    const rows = ticks.map((tk) => tk.services.find((r) => r.name === 'adder')).filter((r) => r !== undefined);
    const total = rows.reduce((n, r) => n + (r.sample?.rps2xx ?? 0), 0);
    return total >= 19.9 && rows.some((r) => (r.sample?.rps4xx ?? 0) > 0) ? rows.at(-1) : undefined;
  }, 10_000, 'the requests in the ticks');
  assert.equal(ticked.state, 'Healthy');
  assert.deepEqual([ticked.ready, ticked.desired, ticked.runtime], [1, 1, 'process']);
  assert.ok(ticked.traffic.p50_ms !== null);

  const history = await (await fetch(`${plane.url}/v1/dashboard/services/adder/history?range=15m`)).json() as History;
  assert.equal(history.step_ms, 1000);
  assert.ok(Math.abs(history.columns.rps2xx.reduce<number>((n, v) => n + (v ?? 0), 0) - 20) < 0.5, 'every request counted once');
  assert.ok(history.columns.p99.some((v) => v !== null));
  assert.equal((await fetch(`${plane.url}/v1/dashboard/services/adder/history?range=2h`)).status, 400);
  assert.equal((await fetch(`${plane.url}/v1/dashboard/services/nobody/history`)).status, 404);

  const detail = await (await fetch(`${plane.url}/v1/dashboard/services/adder`)).json() as ServicePage;
  assert.equal(detail.replicas.length, 1);
  assert.ok((detail.replicas[0]!.memory.used_mb ?? 0) > 1, 'memory in use is measured');
  assert.ok(!JSON.stringify(detail).includes(s.keys.primary), 'no key in the page data');
  const models = (await (await fetch(`${plane.url}/v1/dashboard/models`)).json() as { models: ModelRow[] }).models;
  assert.deepEqual(models.map((m) => [m.name, m.version, m.services]), [['sum-model', 1, ['adder']]]);
  const all = (await (await fetch(`${plane.url}/v1/dashboard/operations`)).json() as { operations: OperationView[] }).operations;
  assert.deepEqual(all.map((o) => [o.service, o.kind, o.status]), [['adder', 'deploy', 'Succeeded']]);
  const doc = await (await fetch(`${plane.url}/openapi.json`)).json() as { paths: Record<string, unknown> };
  assert.ok('/v1/dashboard/stream' in doc.paths);

  // A tab that goes away is no error. With a stream open, berth down ends it cleanly first (a response that finishes),
  // rather than waiting out the HTTP server's 5 s grace and cutting the connection (the reader would see "terminated").
  live.stop();
  await live.done;
  const other = follow(`${plane.url}/v1/dashboard/stream`);
  await until(() => (other.messages.length >= 2 ? true : undefined), 10_000, 'a second stream');
  const started = performance.now();
  await plane.ok(['down']);
  t.diagnostic(`berth down with a dashboard stream open: ${(performance.now() - started).toFixed(0)} ms`);
  await other.done; // rejects if the connection was cut instead of ended
  const log = readFileSync(join(plane.home, 'logs', 'control-plane.log'), 'utf8');
  assert.deepEqual(log.split('\n').filter((l) => /"level":50/.test(l)), [], 'no error logged');
});
