// HTTP probes against a replica: one GET with a deadline, answering the status code or why there is none.
import { request } from 'node:http';
import { systemClock, type Clock } from '../../core/clock.js';

export type ProbeResult = { readonly ok: true; readonly status: number; readonly body?: string } | { readonly ok: false; readonly detail: string };

/** The most of an answer a probe keeps (the start-up report of /ready is a few hundred bytes). */
const MAX_BODY = 16 * 1024;

/** GETs `url`; no keep-alive, so a probe never rides on a connection a dead replica left open. */
export function httpGet(url: string, timeoutMs: number, clock: Clock = systemClock, withBody = false): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      resolve(r);
    };
    const req = request(url, { method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (!withBody) {
        res.resume();
        return finish({ ok: true, status });
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < MAX_BODY) body += d; });
      res.on('end', () => finish({ ok: true, status, body }));
      res.on('error', () => finish({ ok: true, status, body }));
    });
    // A timer rather than req.setTimeout: the deadline covers connecting and the whole answer, not only idle time.
    const timer = clock.setTimeout(() => {
      req.destroy();
      finish({ ok: false, detail: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, detail: err.code ?? err.message }));
    req.end();
  });
}

/** A liveness verdict from one probe: Kubernetes counts any status from 200 to 399 as success. */
export function probeSucceeded(r: ProbeResult): boolean {
  return r.ok && r.status >= 200 && r.status < 400;
}

export function describeProbe(r: ProbeResult): string {
  return r.ok ? `HTTP ${r.status}` : r.detail;
}
