// The admin token, kept for this browser tab only (sessionStorage), and who to tell when the plane asks for one.

const KEY = 'berth.adminToken';
type Listener = () => void;
const listeners = new Set<Listener>();

/** Whether the plane refused us (401) and the token prompt should show; `refused` when a token was sent and turned down. */
export const auth = { needed: false, refused: false, epoch: 0 };

export function token(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the prompt shows on every load
  }
}

/** Stored for the tab's session; every request and the stream start over with it. */
export function setToken(value: string): void {
  try {
    sessionStorage.setItem(KEY, value);
  } catch {
    // without storage the token lives in memory only, below
  }
  memory = value;
  auth.needed = false;
  auth.refused = false;
  auth.epoch++;
  notify();
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
  memory = undefined;
  auth.epoch++;
  notify();
}

let memory: string | undefined;

/** The Authorization header, when there is a token: never in a URL. */
export function authHeaders(): Record<string, string> {
  const t = token() ?? memory;
  return t === undefined ? {} : { authorization: `Bearer ${t}` };
}

/** A 401 from an admin route: ask for the token (again). */
export function unauthorized(): void {
  if (auth.needed) return;
  auth.refused = token() !== undefined || memory !== undefined;
  auth.needed = true;
  notify();
}

export function onAuthChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function notify(): void {
  for (const l of listeners) l();
}
