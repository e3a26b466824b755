// Runs one build step (venv, pip, npm) as its own process group, its output appended to the build log, with a time limit.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { EnvSnapshot } from '../../core/home.js';

export interface StepResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Everything the step printed (stdout and stderr interleaved as they came), capped at the last 256 KiB. */
  readonly output: string;
}

export interface StepOptions {
  readonly log: string;
  readonly env: EnvSnapshot;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

const KEEP = 256 * 1024;

/** Quotes an argument for the log's `$ command` line, so it can be pasted into a shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function appendLog(log: string, text: string): void {
  appendFileSync(log, text.endsWith('\n') ? text : `${text}\n`);
}

export function runStep(command: string, args: readonly string[], o: StepOptions): Promise<StepResult> {
  appendLog(o.log, `$ ${[command, ...args].map(shellQuote).join(' ')}`);
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    let aborted = false;
    const child = spawn(command, args, { cwd: o.cwd, env: o.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const take = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      appendFileSync(o.log, text);
      output = (output + text).slice(-KEEP);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    // The whole group: pip and npm start children of their own (compilers, git, install scripts).
    const kill = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    const finish = (code: number | null, signal: string | null, spawnError?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      // A step's last line may lack its newline; the next `$ command` line must start a line of its own.
      if (output !== '' && !output.endsWith('\n')) appendFileSync(o.log, '\n');
      if (spawnError !== undefined) {
        const line = `cannot start ${command}: ${spawnError.message}`;
        appendLog(o.log, line);
        output += line;
      }
      resolve({ code, signal, timedOut, aborted, output });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, signal) => finish(code, signal));
  });
}
