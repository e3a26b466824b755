// Client-side routes under /ui/ (the plane answers any of them with the page): the path, navigation, and link clicks.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';
const listeners = new Set<() => void>();

/** The path below /ui, always starting with '/'. */
export function currentPath(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  return p === '' ? '/' : p;
}

export function navigate(to: string): void {
  if (BASE + to === location.pathname + location.search) return;
  history.pushState(null, '', BASE + to);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = (): void => setPath(currentPath());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** Same-origin links inside /ui/ navigate without a reload (a modified click still opens a tab). */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest('a');
    if (a === null || a === undefined || a.target !== '' || a.origin !== location.origin || !a.pathname.startsWith(`${BASE}/`)) return;
    e.preventDefault();
    navigate(a.pathname.slice(BASE.length) + a.search);
  });
}

export const href = (path: string): string => BASE + path;
