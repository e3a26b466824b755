// Benchmark helpers for HTTP: free loopback ports, bounded requests, readiness polling.
import http from 'node:http';
import net from 'node:net';

export const HOST = '127.0.0.1';

/** A currently free TCP port on 127.0.0.1 (bind to port 0, read it, release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One HTTP request with a hard timeout; resolves { status, headers, body } or rejects. */
export function request(port, { method = 'GET', path = '/', body, headers = {}, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host: HOST,
        port,
        method,
        path,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length, ...headers } : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${path}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Poll `check()` (async, returns truthy when done) every `intervalMs` until it succeeds, `abort()` returns a
 * reason string (e.g. the process exited), or `timeoutMs` passes. Resolves the check's value; rejects otherwise.
 */
export async function pollUntil(check, { timeoutMs, intervalMs = 50, what, abort }) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = null;
  for (;;) {
    const reason = abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not ready after ${timeoutMs} ms${lastErr ? ` (last error: ${lastErr.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
