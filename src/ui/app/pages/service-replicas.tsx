// A service's replicas: state, restarts, memory in use against its limit, and how its last run ended.
import type { ReplicaRow } from '../../shared/protocol.js';
import { Badge, Empty } from '../components/bits.js';
import { ago, time } from '../lib/format.js';

function Memory({ m }: { m: ReplicaRow['memory'] }) {
  const used = m.used_mb;
  const limit = m.limit_mb;
  const share = used !== undefined && limit !== undefined && limit > 0 ? Math.min(1, used / limit) : undefined;
  return (
    <div class="mem" title={`limit enforced by ${m.enforcement}`}>
      <span>{used === undefined ? '–' : `${used.toFixed(0)} MiB`} / {limit === undefined ? 'no limit' : `${limit} MiB`}</span>
      {share === undefined ? null : <div class="bar"><div class={share > 0.9 ? 'bad' : share > 0.75 ? 'warn' : 'ok'} style={{ width: `${(share * 100).toFixed(0)}%` }} /></div>}
    </div>
  );
}

export function ReplicasTable({ replicas }: { replicas: readonly ReplicaRow[] }) {
  if (replicas.length === 0) return <Empty>No replicas.</Empty>;
  return (
    <table class="grid" data-testid="replicas">
      <thead><tr><th>Replica</th><th>State</th><th class="num">Restarts</th><th>Memory (used / limit)</th><th>Started</th><th>Last termination</th></tr></thead>
      <tbody>
        {replicas.map((r) => (
          <tr key={r.id}>
            <td><code>{r.id}</code><div class="sub">#{r.index}, generation {r.generation}{r.pid === undefined ? '' : `, pid ${r.pid}`}</div></td>
            <td><Badge state={r.state} />{r.next_restart_at === undefined ? null : <div class="sub">next restart at {time(r.next_restart_at)}</div>}</td>
            <td class="num">{r.restarts}</td>
            <td><Memory m={r.memory} /></td>
            <td>{r.started_at === undefined ? '–' : ago(r.started_at)}{r.ready_at === undefined ? null : <div class="sub">ready {ago(r.ready_at)}</div>}</td>
            <td class="term">
              {r.last_termination === undefined ? '–' : <span title={r.last_termination.at}>{r.last_termination.message}</span>}
              {r.last_init_error === undefined ? null : <pre class="init-error" data-testid="init-error">{r.last_init_error}</pre>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
