// A service's charts: req/s by status class, latency against the scoring timeout, utilization against the target, replicas with scaling decisions.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { Decision, History, ServiceRow } from '../../shared/protocol.js';
import { Downsampler, fromColumns, RANGES, toColumns, type RangeName, type Sample } from '../../shared/series.js';
import { Chart, type Marker } from '../components/chart.js';
import { ErrorBox } from '../components/bits.js';
import { enc, getJson } from '../lib/api.js';
import { ms, pct, rate } from '../lib/format.js';
import { useLoad, useServiceRow } from '../lib/hooks.js';
import { live } from '../lib/live.js';

const COLORS = { ok: '#2da44e', client: '#d29922', server: '#cf222e', p50: '#1f6feb', p99: '#8250df', limit: '#cf222e', util: '#1f6feb', target: '#bc4c00', ready: '#2da44e', desired: '#6e7781' };

/** A ScalingDecision as a marker: its message, then the numbers it was taken on. */
export function decisionMarker(d: Decision): Marker {
  const n = d.data;
  const num = (k: string): string | undefined => (typeof n[k] === 'number' ? String(n[k]) : undefined);
  const lines = [
    `replicas ${num('from') ?? '?'} → ${num('to') ?? '?'}`,
    ...(num('utilization') === undefined ? [] : [`utilization ${num('utilization')}% (target ${num('targetUtilization') ?? '?'}%)`]),
    ...(num('busy') === undefined ? [] : [`busy ${Number(n.busy).toFixed(2)} of ${num('replicas') ?? '?'} ready`]),
    ...(num('wanted') === undefined ? [] : [`wanted ${num('wanted')}`]),
    ...(num('lowForMs') === undefined ? [] : [`low for ${(Number(n.lowForMs) / 1000).toFixed(0)} s (peak busy ${num('peakBusy') ?? '?'})`]),
    `min ${num('minReplicas') ?? '?'}, max ${num('maxReplicas') ?? '?'}`,
    new Date(d.time).toLocaleTimeString('en-GB', { hour12: false }),
  ];
  return { t: Date.parse(d.time), title: d.message, lines };
}

/** The chart settings taken from the live row (they change only with an update of the service). */
const limits = (r: ServiceRow) => ({ timeout: r.scoring_timeout_ms, target: r.autoscale?.target, max: r.autoscale?.max ?? r.desired });

export function ServiceCharts({ name }: { name: string }) {
  const row = useServiceRow(name, limits);
  const [range, setRange] = useState<RangeName>('15m');
  const history = useLoad((s) => getJson<History>(`/v1/dashboard/services/${enc(name)}/history?range=${range}`, s), [name, range]);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [decisions, setDecisions] = useState<Decision[]>([]);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    const h = history.data;
    if (h === undefined || h.range !== range) return;
    setSamples(fromColumns(h.columns).filter((s) => s.rps2xx !== null || s.ready !== null));
    setDecisions(h.decisions);
    setNow(h.to);
    const { stepMs, spanMs } = RANGES[range];
    const coarse = stepMs > 1000 ? new Downsampler(stepMs) : undefined;
    // Live: each tick's 1 s sample is appended (15 min), or folded into the range's bucket (1 h, 6 h).
    const offTick = live.ticks.on((t) => {
      const s = t.services.find((r) => r.name === name)?.sample ?? null;
      setNow(t.time);
      if (s === null) return;
      setSamples((prev) => {
        let next = prev.filter((p) => p.t > t.time - spanMs);
        if (coarse === undefined) return next.length > 0 && next[next.length - 1]!.t >= s.t ? next : [...next, s];
        const done = coarse.push(s);
        const filling = coarse.current()!;
        if (done !== undefined) next = [...next.filter((p) => p.t < done.t), done];
        return [...next.filter((p) => p.t < filling.t), filling];
      });
    });
    const offEvent = live.events.on((e) => {
      if (e.service === name && e.event.type === 'ScalingDecision') setDecisions((d) => [...d, { time: e.event.time, message: e.event.message, data: e.event.data ?? {} }]);
    });
    return () => { offTick(); offEvent(); };
  }, [history.data, range, name]);

  const { stepMs, spanMs } = RANGES[range];
  // "15m" means up to 15 min: a service younger than the range fills the chart instead of a sliver at its right edge.
  const first = samples[0]?.t ?? now;
  const window = useMemo(() => [Math.max(now - spanMs, Math.min(first, now - 60 * stepMs)) / 1000, now / 1000] as const, [now, spanMs, stepMs, first]);
  const data = useMemo(() => {
    const c = toColumns(samples, stepMs);
    const x = c.t.map((t) => t / 1000);
    return {
      rps: [x, c.rps2xx, c.rps4xx, c.rps5xx] satisfies uPlot.AlignedData,
      latency: [x, c.p50, c.p99] satisfies uPlot.AlignedData,
      util: [x, c.util] satisfies uPlot.AlignedData,
      replicas: [x, c.ready, c.desired] satisfies uPlot.AlignedData,
    };
  }, [samples, stepMs]);
  const markers = useMemo(() => decisions.filter((d) => Date.parse(d.time) >= now - spanMs).map(decisionMarker), [decisions, now, spanMs]);
  const timeout = row?.timeout;
  const target = row?.target;
  const maxReplicas = row?.max ?? 1;

  return (
    <div>
      <div class="tabs" role="tablist">
        {(Object.keys(RANGES) as RangeName[]).map((r) => (
          <button key={r} type="button" role="tab" aria-selected={r === range} class={r === range ? 'on' : ''} onClick={() => setRange(r)}>{r}</button>
        ))}
        <span class="hint">{stepMs / 1000} s per point</span>
      </div>
      {history.error === undefined ? null : <ErrorBox error={history.error} />}
      <div class="charts">
        <Chart key={`rps-${range}`} testid="chart-rps" title="Requests per second by status" unit={(v) => rate(v)} window={window} floor={1}
          series={[{ label: '2xx', color: COLORS.ok }, { label: '4xx', color: COLORS.client }, { label: '5xx', color: COLORS.server }]} data={data.rps} />
        <Chart key={`lat-${range}`} testid="chart-latency" title="Latency p50 / p99 (log scale)" unit={(v) => ms(v)} window={window} log
          lines={timeout === undefined ? [] : [{ value: timeout, label: `scoring timeout ${ms(timeout)}`, color: COLORS.limit }]}
          series={[{ label: 'p50', color: COLORS.p50 }, { label: 'p99', color: COLORS.p99 }]} data={data.latency} />
        <Chart key={`util-${range}`} testid="chart-util" title="Utilization" unit={(v) => pct(v)} window={window} floor={100}
          lines={target === undefined ? [] : [{ value: target, label: `target ${target}%`, color: COLORS.target }]}
          series={[{ label: 'utilization', color: COLORS.util }]} data={data.util} />
        <Chart key={`rep-${range}`} testid="chart-replicas" title="Replicas (markers: scaling decisions)" unit={(v) => String(Math.round(v * 10) / 10)} window={window} floor={maxReplicas} integer
          markers={markers} series={[{ label: 'ready', color: COLORS.ready, width: 2 }, { label: 'desired', color: COLORS.desired, dash: [5, 3] }]} data={data.replicas} />
      </div>
    </div>
  );
}
