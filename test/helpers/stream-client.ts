// Reading streamed responses as a client does: chunk by chunk as they arrive, with deadlines instead of sleeps.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StreamReader {
  readonly status: number;
  readonly headers: Headers;
  /** Reads until the text so far contains `text` (or fails past the deadline); resolves with everything read so far. */
  readUntil(text: string, timeoutMs?: number): Promise<string>;
  /** Reads to the end; rejects when the body was cut off. */
  rest(timeoutMs?: number): Promise<string>;
  /** Hangs up, as a client that goes away. */
  abort(): void;
}

export async function openStream(url: string, body: unknown, headers: Record<string, string> = {}): Promise<StreamReader> {
  const controller = new AbortController();
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms; read so far: ${JSON.stringify(text)}`)), ms); })]).finally(() => clearTimeout(timer));
  };
  return {
    status: res.status,
    headers: res.headers,
    async readUntil(wanted, timeoutMs = 10_000) {
      const read = async (): Promise<string> => {
        while (!text.includes(wanted)) {
          const r = await reader.read();
          if (r.done) throw new Error(`the stream ended before ${JSON.stringify(wanted)}; read: ${JSON.stringify(text)}`);
          text += decoder.decode(r.value, { stream: true });
        }
        return text;
      };
      return within(read(), timeoutMs, JSON.stringify(wanted));
    },
    async rest(timeoutMs = 10_000) {
      const read = async (): Promise<string> => {
        for (;;) {
          const r = await reader.read();
          if (r.done) return text;
          text += decoder.decode(r.value, { stream: true });
        }
      };
      return within(read(), timeoutMs, 'the end of the stream');
    },
    abort: () => controller.abort(),
  };
}

/** Waits for a file to appear (a fixture's marker), polling with a deadline. */
export async function fileAppears(path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Back-pressure as a client sees it: reads the first bytes of a flood of `count` chunks of `size` bytes, then stops
 * reading and waits until the producer's count (its file `yielded-TAG` in `signals`) stays put for a second (bounded); returns that count,
 * then reads the rest and checks every byte arrived. Without back-pressure the producer runs to `count` meanwhile.
 */
export async function stalledFloodCount(url: string, signals: string, tag: string, count: number, size: number): Promise<{ stalledAt: number; total: number }> {
  const yieldedFile = join(signals, `yielded-${tag}`);
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ mode: 'flood', tag, count, size }), headers: { 'content-type': 'application/json' } });
  const reader = res.body!.getReader();
  let total = (await reader.read()).value?.byteLength ?? 0;
  const read = (): number => { try { return Number(readFileSync(yieldedFile, 'utf8')); } catch { return 0; } };
  let last = read();
  let sameSince = Date.now();
  const deadline = Date.now() + 30_000;
  while (Date.now() - sameSince < 1000) {
    if (Date.now() > deadline) throw new Error(`the producer never stopped: ${read()} chunks`);
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    if (now !== last) { last = now; sameSince = Date.now(); }
  }
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    total += r.value.byteLength;
  }
  return { stalledAt: last, total };
}
