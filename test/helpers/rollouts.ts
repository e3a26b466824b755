// Helpers for rollout integration tests: scoring through the gateway while counting which generation answered, load in the background.
import type { Plane } from './services.js';

export interface Answer {
  readonly status: number;
  /** The generation the gateway says answered (its x-berth-generation header), undefined outside a rollout. */
  readonly generation: number | undefined;
  readonly text: string;
}

export async function scoreOnce(plane: Plane, service: string, key: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${plane.url}/api/v1/service/${service}/score`, {
    method: 'POST', body: JSON.stringify({ data: [[1, 2]] }), signal: AbortSignal.timeout(30_000),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
  });
  const g = res.headers.get('x-berth-generation');
  return { status: res.status, generation: g === null ? undefined : Number(g), text: await res.text() };
}

/** `n` requests one after another: how many each generation answered, and every status. */
export async function scoreMany(plane: Plane, service: string, key: string, n: number): Promise<{ byGeneration: Record<string, number>; statuses: number[] }> {
  const byGeneration: Record<string, number> = {};
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = await scoreOnce(plane, service, key);
    statuses.push(a.status);
    const g = String(a.generation ?? '-');
    byGeneration[g] = (byGeneration[g] ?? 0) + 1;
  }
  return { byGeneration, statuses };
}

/** `workers` loops scoring back to back until stopped: every status seen (0 for a failed connection). */
export function load(plane: Plane, service: string, key: string, workers: number): { stop: () => Promise<{ statuses: number[]; bodies: string[] }> } {
  const statuses: number[] = [];
  const bodies: string[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const a = await scoreOnce(plane, service, key).catch((err: Error) => ({ status: 0, generation: undefined, text: err.message }));
      statuses.push(a.status);
      if (a.status !== 200) bodies.push(a.text);
    }
  });
  return { stop: async () => { running = false; await Promise.all(loops); return { statuses, bodies }; } };
}

/** A metric's value in the plane's /metrics text (0 when the series is absent). */
export async function metric(plane: Plane, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${plane.url}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => inner.split(',').includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
