// One operation with its steps and outcome (the service page's running operation, the operations page's rows).
import type { OperationView } from '../../shared/protocol.js';
import { Badge } from '../components/bits.js';
import { duration, time } from '../lib/format.js';

export function OperationSteps({ op }: { op: OperationView }) {
  return (
    <div class="operation" data-testid="operation">
      <div><Badge state={op.status} /> <b>{op.kind}</b> of generation {op.generation ?? '–'} · started {time(op.started_at)} · {duration(op.duration_ms)}</div>
      <ol class="steps">{op.steps.map((s, i) => <li key={i}><time>{time(s.time)}</time> {s.text}</li>)}</ol>
      {op.error === undefined ? null : <div class="error"><b>{op.error.message}</b> <span class="code">{op.error.code}</span><div class="fix">Fix: {op.error.fix}</div></div>}
    </div>
  );
}
