// Hooks the pages share: re-render on live changes, load data (again when the token changes), and a clock for "ago" texts.
import { useCallback, useEffect, useReducer, useState } from 'preact/hooks';
import { auth, onAuthChange } from './auth.js';
import { live } from './live.js';

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
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what the loader depends on
  }, [...deps, epoch, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}
