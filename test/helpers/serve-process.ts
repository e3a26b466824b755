// Starts a real `berth serve` process on a free loopback port for integration tests, and collects its log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
export const berthBin = fileURLToPath(new URL('../../bin/berth.js', import.meta.url));

export interface LogLine {
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  readonly stderr: () => string;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal (SIGTERM by default) and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function spawnServe(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [berthBin, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `berth serve ARGS` and resolves once it listens; rejects with its output if it exits first. */
/** Starts `berth serve ARGS` and resolves once it serves (`listening`), or with `waitFor: 'probes'` once its probes answer (still starting). */
export function startServe(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number; waitFor?: 'listening' | 'probes' } = {}): Promise<ServeProcess> {
  const child = spawnServe(args, options.env);
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, raw: true };
      }
      logs.push(line);
      for (const w of waiters) if (w.match(line)) { waiters.delete(w); w.resolve(line); }
    }
  });

  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (l: LogLine) => { clearTimeout(timer); resolve(l); } };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`log line not seen within ${timeoutMs} ms; log so far:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  return new Promise((resolve, reject) => {
    void exited.then(({ code, signal }) => reject(new Error(`berth serve exited (${code ?? signal}) before listening:\n${stderr}\n${logs.map((l) => JSON.stringify(l)).join('\n')}`)));
    waitForLog((l) => typeof l.url === 'string' && String(l.msg).startsWith(options.waitFor === 'probes' ? 'probes on' : 'listening'), options.timeoutMs ?? 20_000).then(
      (line) => resolve({
        url: String(line.url),
        child,
        logs,
        stderr: () => stderr,
        waitForLog,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
          const result = await exited;
          clearTimeout(force);
          return result;
        },
      }),
      (err: unknown) => { child.kill('SIGKILL'); reject(err); },
    );
  });
}

/** Runs `berth serve ARGS` expecting it to exit by itself (a start-up failure); bounded in time. */
export function runServeToExit(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ServeRun> {
  const child = spawnServe(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`berth serve did not exit within the time limit:\n${stderr}`)); }, options.timeoutMs ?? 20_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** POSTs a body to /score (or any path) and returns status, headers and parsed JSON when it is JSON. */
export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(30_000) });
  return readResponse(res);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  return readResponse(res);
}

/** What `GET /ready` answers: overall readiness, requests waiting for a worker, and each worker's state. */
export interface ReadyBody {
  readonly ready: boolean;
  readonly queued: number;
  readonly workers: ReadonlyArray<{ readonly id: number; readonly phase: string; readonly busy: boolean; readonly in_flight: number }>;
}

/** Polls the server's /ready until `check` holds for its status and body; throws naming `what` after about 5 s. */
export async function untilReady(url: string, check: (body: ReadyBody, status: number) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const res = await get(`${url}/ready`);
    if (check(res.json as ReadyBody, res.status)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not reached`);
}

async function readResponse(res: Response): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
