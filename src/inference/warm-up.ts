// The warm-up request a service may name: run once through the pool after init(), so the first real request does not pay for lazy loading; a non-2xx answer fails the start.
import type { WorkerPool } from './pool/worker-pool.js';
import type { ScoreRequest, StartupFailure } from './runtime/types.js';

const EXCERPT = 300;

/** Sends `body` as one POST /score; resolves with nothing when run() answered 2xx, else with the start-up failure to report. */
export function warmUp(pool: WorkerPool, body: string, entryScript: string): Promise<StartupFailure | undefined> {
  const request: ScoreRequest = { requestId: 'warm-up', method: 'POST', path: '/score', query: '', body: Buffer.from(body), headers: { 'content-type': 'application/json' } };
  const failed = (message: string): StartupFailure => ({ kind: 'warmup', exception: 'WarmUpFailed', message, file: entryScript });
  return new Promise((resolve) => {
    pool.dispatch(request, (r) => {
      switch (r.kind) {
        case 'ok': {
          if (r.status >= 200 && r.status < 300) return resolve(undefined);
          const text = Buffer.isBuffer(r.body) ? r.body.toString('utf8') : String(r.body);
          return resolve(failed(`the warm-up request got HTTP ${r.status}: ${text.slice(0, EXCERPT)}`));
        }
        case 'run_error': return resolve({ ...failed(`run() raised ${r.exception} on the warm-up request: ${r.message}`), ...(r.traceback === undefined ? {} : { traceback: r.traceback }) });
        case 'timeout': return resolve(failed(`run() did not answer the warm-up request within the scoring timeout of ${r.timeoutMs} ms`));
        case 'worker_died': return resolve(failed(`the worker died on the warm-up request (${r.reason})`));
        case 'bad_utf8': return resolve(failed('the warm-up request is not UTF-8 text'));
        // A streaming run() is warm once its stream ran to its end (its chunks are dropped).
        case 'stream': return r.stream.attach({
          chunk: () => true,
          end: () => resolve(undefined),
          fail: (f) => resolve(failed(`the warm-up request's stream failed: ${f.kind === 'run_error' ? `${f.exception}: ${f.message}` : f.kind === 'timeout' ? `no chunk within ${f.timeoutMs} ms` : f.reason}`)),
        });
        case 'overloaded': return resolve(failed('no worker took the warm-up request'));
      }
    });
  });
}
