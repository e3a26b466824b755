// Operations: the latest deploys, updates and deletes of every service, with their outcome; updated live.
import { useEffect, useState } from 'preact/hooks';
import type { OperationView } from '../../shared/protocol.js';
import { Badge, Empty, ErrorBox } from '../components/bits.js';
import { getJson } from '../lib/api.js';
import { duration, time } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { live } from '../lib/live.js';
import { href } from '../lib/router.js';
import { OperationSteps } from './operation-view.js';

export function OperationsPage() {
  const loaded = useLoad((s) => getJson<{ operations: OperationView[] }>('/v1/dashboard/operations?limit=200', s), []);
  const [ops, setOps] = useState<OperationView[]>([]);
  const [open, setOpen] = useState<string | undefined>();
  useEffect(() => { if (loaded.data !== undefined) setOps(loaded.data.operations); }, [loaded.data]);
  useEffect(() => live.operations.on((op) => setOps((list) => [op, ...list.filter((o) => o.id !== op.id)].sort((a, b) => b.started_at.localeCompare(a.started_at)))), []);
  return (
    <div>
      <div class="page-head"><h1>Operations</h1></div>
      {loaded.error === undefined ? null : <ErrorBox error={loaded.error} />}
      {loaded.data !== undefined && ops.length === 0 ? <Empty>No operations yet.</Empty> : null}
      {ops.length === 0 ? null : (
        <table class="grid" data-testid="operations">
          <thead><tr><th>Started</th><th>Service</th><th>Kind</th><th>Outcome</th><th class="num">Took</th><th>Progress or error</th></tr></thead>
          <tbody>{ops.map((o) => [
            <tr key={o.id} class="clickable" onClick={() => setOpen(open === o.id ? undefined : o.id)}>
              <td>{time(o.started_at)}</td>
              <td><a href={href(`/services/${o.service}`)}>{o.service}</a></td>
              <td>{o.kind}</td>
              <td><Badge state={o.status} /></td>
              <td class="num">{duration(o.duration_ms)}</td>
              <td class={o.error === undefined ? 'sub' : 'bad-text'}>{o.error === undefined ? o.progress : `${o.error.code}: ${o.error.message}`}</td>
            </tr>,
            open === o.id ? <tr key={`${o.id}-steps`}><td colSpan={6}><OperationSteps op={o} /></td></tr> : null,
          ])}</tbody>
        </table>
      )}
    </div>
  );
}
