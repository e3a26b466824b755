// A time-series chart on uPlot: fixed time window, optional log scale, reference lines (timeout, target) and event markers with hover details.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';

export interface SeriesSpec { readonly label: string; readonly color: string; readonly dash?: number[]; readonly width?: number }
export interface RefLine { readonly value: number; readonly label: string; readonly color: string }
/** A moment to mark on the time axis (a scaling decision): hovering it shows its lines. */
export interface Marker { readonly t: number; readonly title: string; readonly lines: readonly string[] }

export interface ChartProps {
  readonly title: string;
  readonly series: readonly SeriesSpec[];
  /** x in seconds, then one array per series. */
  readonly data: uPlot.AlignedData;
  /** The window shown, in seconds: it slides with time even when no sample arrives. */
  readonly window: readonly [number, number];
  readonly unit: (v: number) => string;
  readonly log?: boolean;
  /** Whole-number ticks only (replica counts). */
  readonly integer?: boolean;
  /** The y axis reaches at least this (so an idle chart still has a scale). */
  readonly floor?: number;
  readonly lines?: readonly RefLine[];
  readonly markers?: readonly Marker[];
  readonly height?: number;
  readonly testid?: string;
}

export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const props = useRef(p);
  props.current = p;
  const markerLayer = useRef<HTMLDivElement | null>(null);

  useLayoutEffect(() => {
    const el = box.current!;
    const drawLines = (u: uPlot): void => {
      const ctx = u.ctx;
      for (const l of props.current.lines ?? []) {
        const y = u.valToPos(l.value, 'y', true);
        if (!Number.isFinite(y) || y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
        ctx.save();
        ctx.strokeStyle = l.color;
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        ctx.fillStyle = l.color;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'alphabetic';
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.fillText(l.label, u.bbox.left + 4 * devicePixelRatio, y - 4 * devicePixelRatio);
        ctx.restore();
      }
    };
    const placeMarkers = (u: uPlot): void => {
      const layer = markerLayer.current;
      if (layer === null) return;
      for (const m of Array.from(layer.children) as HTMLElement[]) {
        const x = u.valToPos(Number(m.dataset.t), 'x');
        m.style.left = `${x}px`;
        m.hidden = !(x >= 0 && x <= u.over.clientWidth);
        // Its details open towards the middle, so they stay inside the chart at either edge.
        m.classList.toggle('left', x > u.over.clientWidth / 2);
      }
    };
    // The page's text colour (light or dark scheme) for axes: a canvas does not resolve CSS variables or currentColor.
    const ink = getComputedStyle(el).color;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: p.height ?? 180,
      legend: { live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: { time: true, range: () => [props.current.window[0], props.current.window[1]] },
        y: {
          distr: p.log === true ? 3 : 1,
          range: (_u, min, max) => yRange(props.current, min, max),
        },
      },
      axes: [
        { stroke: ink, space: 70, grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' }, values: (_u, splits) => splits.map(clock) },
        {
          stroke: ink, grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' }, size: 64,
          values: (_u, vals) => vals.map((v) => (v === null ? '' : props.current.unit(v))),
          // A log axis gets grid lines and labels at powers of ten only (1 ms, 10 ms, 100 ms, …), not at every 2…9.
          ...(p.log === true ? { splits: (_u: uPlot, _i: number, min: number, max: number) => powersOfTen(min, max) } : {}),
          ...(p.integer === true ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] } : {}),
        },
      ],
      series: [
        { value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toLocaleTimeString('en-GB', { hour12: false })) },
        ...p.series.map((s): uPlot.Series => ({
          label: s.label, stroke: s.color, width: s.width ?? 1.5, ...(s.dash === undefined ? {} : { dash: s.dash }), spanGaps: false,
          value: (_u, v) => (v === null || v === undefined ? '–' : props.current.unit(v)),
        })),
      ],
      hooks: { draw: [drawLines, placeMarkers] },
    };
    const u = new uPlot(opts, p.data, el);
    plot.current = u;
    const layer = document.createElement('div');
    layer.className = 'markers';
    u.over.appendChild(layer);
    markerLayer.current = layer;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: props.current.height ?? 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Series and scale kinds are fixed for a chart's life; data, window, lines and markers change through the effects below.
  }, []);

  // Synchronously after render, so the cost of an update is part of the task that received it.
  useLayoutEffect(() => {
    plot.current?.setData(p.data);
  }, [p.data, p.window[0], p.window[1]]);

  useEffect(() => {
    const layer = markerLayer.current;
    if (layer === null) return;
    layer.replaceChildren(...(p.markers ?? []).map((m) => {
      const el = document.createElement('div');
      el.className = 'marker';
      el.dataset.t = String(m.t / 1000);
      el.setAttribute('aria-label', `${m.title}: ${m.lines.join('; ')}`);
      el.tabIndex = 0;
      const tip = document.createElement('div');
      tip.className = 'tip';
      const head = document.createElement('b');
      head.textContent = m.title;
      tip.append(head, ...m.lines.map((line) => { const d = document.createElement('div'); d.textContent = line; return d; }));
      el.append(tip);
      return el;
    }));
    plot.current?.redraw(false, false);
  }, [p.markers]);

  // What the chart holds, on the element: tests (and curious people) read it without poking into the canvas.
  let points = 0;
  let top = 0;
  for (const ys of p.data.slice(1)) for (const v of ys) if (v !== null && v !== undefined) { points++; top = Math.max(top, v); }
  return (
    <figure class="chart" data-testid={p.testid} data-points={points} data-max={top}>
      <figcaption>{p.title}</figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}

function powersOfTen(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(min) - 1e-9); e <= Math.floor(Math.log10(max) + 1e-9); e++) out.push(10 ** e);
  return out;
}

/** An axis tick: 24-hour time, to the minute (seconds when the window is short enough to need them). */
function clock(s: number): string {
  const d = new Date(s * 1000);
  return d.getSeconds() === 0 ? d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : d.toLocaleTimeString('en-GB', { hour12: false });
}

function yRange(p: ChartProps, min: number | null, max: number | null): uPlot.Range.MinMax {
  let lo = min ?? Infinity;
  let hi = max ?? -Infinity;
  for (const l of p.lines ?? []) { lo = Math.min(lo, l.value); hi = Math.max(hi, l.value); }
  if (p.floor !== undefined) hi = Math.max(hi, p.floor);
  if (p.log === true) {
    // A log axis needs positive bounds: from a little under the fastest request to a little over the timeout.
    const a = Number.isFinite(lo) && lo > 0 ? lo : 0.1;
    const b = Number.isFinite(hi) && hi > a ? hi : a * 10;
    return uPlot.rangeLog(a, b, 10, true);
  }
  return [0, Number.isFinite(hi) && hi > 0 ? hi * 1.12 : 1];
}

/** A row's req/s over the last two minutes: an SVG line, cheap enough to redraw for every row every second. */
export function Sparkline({ values, width = 120, height = 24 }: { values: readonly number[]; width?: number; height?: number }) {
  if (values.length < 2) return <svg class="spark" width={width} height={height} aria-hidden="true" />;
  const max = Math.max(...values, 0.001);
  const step = width / (values.length - 1);
  const d = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join('');
  return <svg class="spark" width={width} height={height} aria-hidden="true"><path d={d} /></svg>;
}
