// Numbers, times and sizes as the dashboard writes them.

export function rate(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v === 0 ? '0' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en');
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v < 1 ? `${v.toFixed(2)} ms` : v < 1000 ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
}

export function pct(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined ? '–' : `${v.toFixed(digits)}%`;
}

/** A 0–1 share as a percentage. */
export function share(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : v === 0 ? '0%' : v < 0.001 ? '<0.1%' : `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`;
}

export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = v;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return `${u === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[u]}`;
}

export function duration(msTotal: number): string {
  const s = msTotal / 1000;
  if (s < 1) return `${Math.round(msTotal)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Local wall-clock time (and the date when it is not today). */
export function time(iso: string | number): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const t = d.toLocaleTimeString('en-GB', { hour12: false });
  return today ? t : `${d.toLocaleDateString('en-CA')} ${t}`;
}

export function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return s < 60 ? `${Math.round(s)} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 86400 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} d ago`;
}
