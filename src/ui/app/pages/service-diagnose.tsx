// berth diagnose in the page: findings most severe first, each with its evidence and its fix.
import { Empty, ErrorBox } from '../components/bits.js';
import { enc, getJson } from '../lib/api.js';
import { useLoad } from '../lib/hooks.js';
import type { Diagnosis } from '../lib/types.js';

/** `state` re-runs it when the service's state changes (a crash, a recovery). */
export function ServiceDiagnose({ name, state }: { name: string; state: string | undefined }) {
  const d = useLoad((s) => getJson<Diagnosis>(`/v1/services/${enc(name)}/diagnose?since=15m`, s), [name, state]);
  return (
    <div data-testid="diagnose">
      <div class="toolbar">
        <span class="hint">{d.data === undefined ? '' : `${d.data.summary} (last ${d.data.since})`}</span>
        <button type="button" class="small" onClick={d.reload} disabled={d.loading}>{d.loading ? 'Diagnosing…' : 'Run again'}</button>
      </div>
      {d.error === undefined ? null : <ErrorBox error={d.error} />}
      {d.data === undefined ? null : d.data.findings.length === 0 ? <Empty>No problems found.</Empty> : (
        <ol class="findings">
          {d.data.findings.map((f, i) => (
            <li key={i} class={`finding ${f.severity}`}>
              <div><span class={`badge ${f.severity === 'warning' ? 'warn' : 'bad'}`}>{f.severity}</span> <b>{f.symptom}</b> <code class="code">{f.code}</code></div>
              <p>{f.cause}</p>
              {f.evidence.length === 0 ? null : <pre class="evidence">{f.evidence.join('\n')}</pre>}
              <p class="fix"><b>Fix:</b> {f.fix}</p>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
