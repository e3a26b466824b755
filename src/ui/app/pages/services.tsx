// The services page: every service with its state and reason, replicas, live traffic and runtime; those in trouble first.
import { useEffect } from 'preact/hooks';
import type { ServiceRow } from '../../shared/protocol.js';
import { Badge, Empty } from '../components/bits.js';
import { Sparkline } from '../components/chart.js';
import { rate, ms, share, pct } from '../lib/format.js';
import { useLive } from '../lib/hooks.js';
import { href } from '../lib/router.js';

/** Worst first: a failed service is what someone opening the page came for. */
const ORDER: Readonly<Record<string, number>> = { Failed: 0, Unhealthy: 1, Unschedulable: 2, Transitioning: 3, Deleting: 4, Healthy: 5 };

export function troubleFirst(a: ServiceRow, b: ServiceRow): number {
  return (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9) || (b.traffic.error_rate ?? 0) - (a.traffic.error_rate ?? 0) || a.name.localeCompare(b.name);
}

/** Set once, when the table first shows the plane's services: "usable", as the browser tests measure it. */
let shown = false;

export function ServicesPage() {
  const live = useLive();
  useEffect(() => {
    if (shown || !live.loaded) return;
    shown = true;
    performance.mark('berth:services-usable');
  });
  const rows = [...live.services].sort(troubleFirst);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  return (
    <div>
      <div class="page-head">
        <h1>Services</h1>
        <div class="counts">{[...counts].map(([state, n]) => <span key={state}><Badge state={state} /> {n}</span>)}</div>
      </div>
      {!live.loaded ? <Empty>Loading…</Empty> : rows.length === 0 ? (
        <Empty>No services yet. Deploy one with <code>berth deploy --name NAME --entry-script score.py --model MODEL:1</code>, or try <code>berth quickstart</code>.</Empty>
      ) : (
        <table class="grid services" data-testid="services">
          <thead>
            <tr><th>Service</th><th>State</th><th class="num">Replicas</th><th class="num">req/s</th><th>last 2 min</th><th class="num">p50 / p99</th><th class="num">Errors</th><th class="num">Util.</th><th>Runtime</th></tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name} data-service={r.name} class={`row-${r.state}`}>
                <td><a href={href(`/services/${r.name}`)}><b>{r.name}</b></a></td>
                <td class="state"><Badge state={r.state} />{r.reason === '' ? null : <div class="reason" title={r.reason}>{r.reason}</div>}</td>
                <td class="num">{r.ready}/{r.desired}{r.autoscale === null ? null : <div class="sub">auto {r.autoscale.min}–{r.autoscale.max}</div>}</td>
                <td class="num">{rate(r.traffic.rps)}</td>
                <td><Sparkline values={live.sparks.get(r.name) ?? []} /></td>
                <td class="num">{ms(r.traffic.p50_ms)} / {ms(r.traffic.p99_ms)}</td>
                <td class={`num ${(r.traffic.error_rate ?? 0) > 0 ? 'bad-text' : ''}`}>{share(r.traffic.error_rate)}</td>
                <td class="num">{pct(r.traffic.utilization)}</td>
                <td>{r.runtime}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">req/s and errors (5xx share) over the last 10 s; p50/p99 over the gateway's last minute; utilization at the autoscaler's last sample.</p>
    </div>
  );
}
