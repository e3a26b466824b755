// Small pieces used across pages: state badges, error boxes, copy buttons, cards.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../lib/api.js';

/** Service states, replica states and build states, each with the colour class of its severity. */
const TONE: Readonly<Record<string, string>> = {
  Healthy: 'ok', Ready: 'ok', Built: 'ok', built: 'ok', Succeeded: 'ok',
  Transitioning: 'info', Starting: 'info', Building: 'info', building: 'info', Running: 'info',
  Unhealthy: 'warn', Unschedulable: 'warn', Pending: 'warn', NotBuilt: 'muted',
  Failed: 'bad', failed: 'bad', CrashLoopBackOff: 'bad', OOMKilled: 'bad',
  Deleting: 'muted', Stopped: 'muted', Stopping: 'muted', Draining: 'muted',
};

export function tone(state: string): string {
  return TONE[state] ?? 'muted';
}

export function Badge({ state }: { state: string }) {
  return <span class={`badge ${tone(state)}`} data-state={state}>{state}</span>;
}

export function Card({ title, actions, children, id }: { title: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" id={id}>
      <header><h2>{title}</h2>{actions === undefined ? null : <div class="actions">{actions}</div>}</header>
      {children}
    </section>
  );
}

/** An error from the API with berth's code and fix, or any other error's message. */
export function ErrorBox({ error }: { error: Error }) {
  const e = error instanceof ApiError ? error : undefined;
  return (
    <div class="error" role="alert">
      <b>{error.message}</b>{e === undefined ? null : <span class="code"> {e.code}</span>}
      {e !== undefined && e.fix !== '' ? <div class="fix">Fix: {e.fix}</div> : null}
    </div>
  );
}

export function Copy({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button type="button" class="small" onClick={() => { void navigator.clipboard?.writeText(text).then(() => { setDone(true); setTimeout(() => setDone(false), 1200); }); }}>
      {done ? 'Copied' : label}
    </button>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
