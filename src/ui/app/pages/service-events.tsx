// A service's events, newest first, live: scheduling, starts, init() failures, back-offs, OOM kills, scaling decisions.
import type { ServiceEventView } from '../../shared/protocol.js';
import { Empty } from '../components/bits.js';
import { time } from '../lib/format.js';

const BAD = /Failed|BackOff|OOM|Killed|Unhealthy|Error|Timeout/;
const INFO = /ScalingDecision|Scaled|Operation|Image/;

export function eventTone(type: string): string {
  return BAD.test(type) ? 'bad' : INFO.test(type) ? 'info' : 'muted';
}

export function EventsTimeline({ events }: { events: readonly ServiceEventView[] }) {
  if (events.length === 0) return <Empty>No events yet.</Empty>;
  return (
    <ol class="timeline" data-testid="events">
      {[...events].reverse().map((e) => (
        <li key={e.id} class={eventTone(e.type)} data-type={e.type}>
          <time dateTime={e.time}>{time(e.time)}</time>
          <span class={`badge ${eventTone(e.type)}`}>{e.type}</span>
          {e.replica === undefined ? null : <code class="sub">{e.replica}</code>}
          <span class="msg">{e.message}</span>
        </li>
      ))}
    </ol>
  );
}
