// A service's page: state and reason, the running operation, charts, replicas, diagnosis, a request form, keys, logs and events.
import { useEffect, useState } from 'preact/hooks';
import type { OperationView, ServiceEventView, ServicePage, ServiceRow } from '../../shared/protocol.js';
import { Badge, Card, Copy, ErrorBox } from '../components/bits.js';
import { enc, getJson } from '../lib/api.js';
import { duration, time } from '../lib/format.js';
import { useLoad, useServiceRow } from '../lib/hooks.js';
import { live } from '../lib/live.js';
import { href } from '../lib/router.js';
import { OperationSteps } from './operation-view.js';
import { ServiceCharts } from './service-charts.js';
import { ServiceDiagnose } from './service-diagnose.js';
import { EventsTimeline } from './service-events.js';
import { ServiceKeys } from './service-keys.js';
import { ServiceLogs } from './service-logs.js';
import { ReplicasTable } from './service-replicas.js';
import { RequestForm } from './service-request.js';

/** Events that change the replicas table: the page reloads it when one arrives (rather than asking on a timer). */
const REPLICA_EVENTS = /^(Scheduled|Started|Ready|Exited|BackOff|Killing|Stopped|OOMKilled|InitFailed|Adopted|StateChanged|ScalingDecision|Unhealthy)$/;
/** Memory in use changes without events: the replicas table is refreshed this often while the page is visible. */
const MEMORY_REFRESH_MS = 5000;
const MAX_EVENTS = 300;

/** What the page header shows of the live row: it re-renders when one of these changes, not every second. */
const headline = (r: ServiceRow) => ({ state: r.state, reason: r.reason, ready: r.ready, desired: r.desired });

export function ServicePageView({ name }: { name: string }) {
  const row = useServiceRow(name, headline);
  const page = useLoad((s) => getJson<ServicePage>(`/v1/dashboard/services/${enc(name)}`, s), [name]);
  const [events, setEvents] = useState<ServiceEventView[]>([]);
  const [ops, setOps] = useState<OperationView[]>([]);
  const { reload } = page;

  useEffect(() => {
    if (page.data === undefined) return;
    setEvents(page.data.events);
    setOps(page.data.operations);
  }, [page.data]);

  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    const soon = (): void => { pending ??= setTimeout(() => { pending = undefined; reload(); }, 400); };
    const offEvent = live.events.on((e) => {
      if (e.service !== name) return;
      setEvents((list) => (list.some((x) => x.id === e.event.id) ? list : [...list, e.event].slice(-MAX_EVENTS)));
      if (REPLICA_EVENTS.test(e.event.type)) soon();
    });
    const offOp = live.operations.on((op) => {
      if (op.service !== name) return;
      setOps((list) => [op, ...list.filter((o) => o.id !== op.id)].sort((a, b) => b.started_at.localeCompare(a.started_at)));
    });
    const timer = setInterval(() => { if (document.visibilityState === 'visible') reload(); }, MEMORY_REFRESH_MS);
    return () => { offEvent(); offOp(); clearInterval(timer); clearTimeout(pending); };
  }, [name, reload]);

  const d = page.data;
  if (d === undefined) return page.error === undefined ? <p class="empty">Loading {name}…</p> : <div><p><a href={href('/')}>← Services</a></p><ErrorBox error={page.error} /></div>;
  const state = row?.state ?? d.state;
  const reason = row?.reason ?? d.reason;
  const running = ops.find((o) => o.status === 'Running');
  const lastFailed = running === undefined && ops[0]?.status === 'Failed' ? ops[0] : undefined;
  const spec = d.spec;
  const diagnosis = <Card title="Diagnosis" id="diagnose"><ServiceDiagnose name={name} state={state} /></Card>;
  return (
    <div class="service" data-testid="service-page">
      <p class="crumbs"><a href={href('/')}>Services</a> / {name}</p>
      <div class="page-head">
        <h1>{name}</h1>
        <Badge state={state} />
        <span class="sub">{row?.ready ?? d.ready_replicas}/{row?.desired ?? d.desired_replicas} replicas ready · generation {d.generation} · {d.runtime} · auth {d.auth}</span>
      </div>
      {page.error === undefined ? null : <ErrorBox error={page.error} />}
      {reason === '' ? null : <p class={`reason-full ${state === 'Healthy' ? '' : 'bad-text'}`} data-testid="reason">{reason}</p>}
      <div class="facts">
        <span>Scoring URI <code>{d.scoring_uri}</code> <Copy text={d.scoring_uri} /></span>
        <span><a href={d.swagger_uri} target="_blank" rel="noreferrer">swagger.json</a></span>
        <span>entry script <code>{String(spec.entry_script ?? '')}</code></span>
        {spec.autoscale_enabled === true ? <span>autoscale {String(spec.autoscale_min_replicas)}–{String(spec.autoscale_max_replicas)} at {String(spec.autoscale_target_utilization)}%</span> : <span>{String(spec.replicas)} replica{spec.replicas === 1 ? '' : 's'}</span>}
        <span>updated {time(d.updated_at)}</span>
      </div>
      {running === undefined ? null : <Card title="Operation in progress"><OperationSteps op={running} /></Card>}
      {lastFailed === undefined ? null : <Card title="Last operation failed"><OperationSteps op={lastFailed} /></Card>}
      {/* A service in trouble shows what is wrong before its charts; a healthy one its traffic first. */}
      {state === 'Healthy' ? null : diagnosis}
      <Card title="Traffic"><ServiceCharts name={name} /></Card>
      {state === 'Healthy' ? diagnosis : null}
      <Card title="Replicas"><ReplicasTable replicas={d.replicas} /></Card>
      <div class="two">
        <Card title="Send a request"><RequestForm name={name} auth={d.auth} /></Card>
        <Card title="Keys"><ServiceKeys name={name} auth={d.auth} /></Card>
      </div>
      <Card title="Logs"><ServiceLogs name={name} replicas={d.replicas} /></Card>
      <div class="two">
        <Card title="Events"><EventsTimeline events={events} /></Card>
        <Card title="Operations">
          <table class="grid"><tbody>{ops.map((o) => (
            <tr key={o.id}><td>{time(o.started_at)}</td><td>{o.kind}</td><td><Badge state={o.status} /></td><td>{duration(o.duration_ms)}</td><td class="sub">{o.error?.message ?? o.progress}</td></tr>
          ))}</tbody></table>
        </Card>
      </div>
    </div>
  );
}
