// A replica's log: the current run, its start-up (--init) or its previous run (--previous), optionally followed live on the stream.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { LogChunkView, LogKind, ReplicaRow } from '../../shared/protocol.js';
import { ErrorBox } from '../components/bits.js';
import { enc, getJson, sendJson } from '../lib/api.js';
import { live } from '../lib/live.js';

/** The most a view keeps: older text is cut from the top, as a terminal's scroll-back is. */
const MAX_CHARS = 512 * 1024;
const TAIL = 500;

const keep = (text: string): string => (text.length > MAX_CHARS ? text.slice(text.length - MAX_CHARS) : text);

export function ServiceLogs({ name, replicas }: { name: string; replicas: readonly ReplicaRow[] }) {
  const [replica, setReplica] = useState<string>('');
  const [kind, setKind] = useState<LogKind>('current');
  const [follow, setFollow] = useState(false);
  const [text, setText] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const pre = useRef<HTMLPreElement>(null);
  // A crash-looping replica is the one worth reading first.
  const chosen = replica !== '' && replicas.some((r) => r.id === replica) ? replica : ([...replicas].sort((a, b) => Number(b.state !== 'Ready') - Number(a.state !== 'Ready'))[0]?.id ?? '');

  useEffect(() => {
    if (chosen === '') return;
    let stopped = false;
    setError(undefined);
    const show = (c: LogChunkView | undefined): void => { if (!stopped && c !== undefined) setText(keep(c.text)); };
    const fail = (e: unknown): void => { if (!stopped) setError(e instanceof Error ? e : new Error(String(e))); };
    if (!follow) {
      getJson<{ logs: LogChunkView[] }>(`/v1/services/${enc(name)}/logs?replica=${enc(chosen)}&kind=${kind}&tail=${TAIL}`).then((r) => show(r.logs[0]), fail);
      return () => { stopped = true; };
    }
    // Follow on this tab's stream: the tail now, appended text as `log` messages; again after a reconnect (a new stream).
    const attach = (): void => {
      if (live.stream === undefined) return;
      sendJson<LogChunkView>('PUT', `/v1/dashboard/streams/${live.stream}/follow`, { service: name, replica: chosen, kind, tail: TAIL }).then(show, fail);
    };
    attach();
    const offHello = live.hello.on(attach);
    const offLog = live.logs.on((l) => {
      if (l.service !== name || l.replica !== chosen || l.kind !== kind) return;
      // Starting over at 0 means the file was replaced (the replica restarted).
      setText((t) => keep(l.offset === 0 ? l.text : t + l.text));
    });
    return () => {
      stopped = true;
      offHello();
      offLog();
      if (live.stream !== undefined) void sendJson('DELETE', `/v1/dashboard/streams/${live.stream}/follow`).catch(() => undefined);
    };
  }, [name, chosen, kind, follow]);

  useLayoutEffect(() => {
    const el = pre.current;
    if (el !== null && follow) el.scrollTop = el.scrollHeight;
  }, [text, follow]);

  return (
    <div class="logs" data-testid="logs">
      <div class="toolbar">
        <label>Replica <select value={chosen} onChange={(e) => setReplica(e.currentTarget.value)}>
          {replicas.map((r) => <option key={r.id} value={r.id}>{r.id} ({r.state})</option>)}
        </select></label>
        <div class="seg" role="radiogroup" aria-label="which log">
          {(['current', 'init', 'previous'] as const).map((k) => (
            <label key={k}><input type="radio" name="kind" checked={kind === k} onChange={() => setKind(k)} /> {k === 'current' ? 'current run' : k === 'init' ? 'start-up (--init)' : 'previous run (--previous)'}</label>
          ))}
        </div>
        <label><input type="checkbox" name="follow" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> follow</label>
      </div>
      {error === undefined ? null : <ErrorBox error={error} />}
      <pre ref={pre} class="log">{text === '' ? '(empty)' : text}</pre>
    </div>
  );
}
