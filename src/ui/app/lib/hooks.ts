// Hooks the pages share: re-render on live changes, load data (again when the token changes), and a clock for "ago" texts.
import { useCallback, useEffect, useReducer, useState } from 'preact/hooks';
import { auth, onAuthChange } from './auth.js';
import { live } from './live.js';
import type { ServiceRow } from '../../shared/protocol.js';

/** Re-renders on every live change (a tick a second, the connection state). */
export function useLive(): typeof live {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const off = live.changed.on(() => bump(undefined));
    bump(undefined); // a change between the first render and this subscription (a fast 401, the first snapshot) is not lost
    return off;
  }, []);
  return live;
}

/** Bumps when a token is given, so loaders run again after the prompt. */
export function useAuthEpoch(): number {
  const [epoch, setEpoch] = useState(auth.epoch);
  useEffect(() => {
    const off = onAuthChange(() => setEpoch(auth.epoch));
    setEpoch(auth.epoch);
    return off;
  }, []);
  return epoch;
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` (or the token) change; a newer run wins over an older one still in flight. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const epoch = useAuthEpoch();
  const [nonce, setNonce] = useState(0);
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (data) => { if (!ctl.signal.aborted) setState({ data, error: undefined, loading: false }); },
      (error: unknown) => { if (!ctl.signal.aborted) setState((s) => ({ data: s.data, error: error instanceof Error ? error : new Error(String(error)), loading: false })); },
    );
    return () => ctl.abort();
    // The caller names what its loader depends on; the loader itself is a new closure on every render.
  }, [...deps, epoch, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}

/**
 * Part of a service's live row, re-rendering only when that part changes (the state, not every second's traffic):
 * a service's page would otherwise redraw its tables each tick.
 */
export function useServiceRow<T>(name: string, pick: (row: ServiceRow) => T): T | undefined {
  const read = (): T | undefined => {
    const row = live.services.find((r) => r.name === name);
    return row === undefined ? undefined : pick(row);
  };
  const [value, setValue] = useState<T | undefined>(read);
  useEffect(() => {
    let last = JSON.stringify(read() ?? null);
    const update = (): void => {
      const next = read();
      const text = JSON.stringify(next ?? null);
      if (text !== last) { last = text; setValue(next); }
    };
    update();
    return live.changed.on(update);
    // `pick` is expected to be the same projection for the component's life.
  }, [name]);
  return value;
}
