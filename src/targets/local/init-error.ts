// Reads the entry script's start-up failure (exception, file, line) out of a replica's output after `berth serve` exited with code 3.
import type { InitError } from '../types.js';

/** `berth serve`'s exit code for an entry script that cannot start. */
export const EXIT_ENTRY_SCRIPT = 3;

function fromJsonLine(line: string): InitError | undefined {
  if (!line.startsWith('{') || !line.includes('init_failed')) return undefined;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.event !== 'init_failed' || typeof o.exception !== 'string') return undefined;
    return {
      exception: o.exception,
      message: typeof o.message === 'string' ? o.message : '',
      ...(typeof o.file === 'string' ? { file: o.file } : {}),
      ...(typeof o.line === 'number' ? { line: o.line } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * The last start-up failure in `output`: the structured `init_failed` log line when present, else the stderr report's
 * `exception: <Type>: <msg>` and `at: <file>:<line>` lines (the report is the contract; the log line is richer).
 */
export function parseInitError(output: string): InitError | undefined {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const parsed = fromJsonLine(lines[i]!.trim());
    if (parsed !== undefined) return parsed;
  }
  let found: { exception: string; message: string; file?: string; line?: number } | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    const exc = /^exception: ([^:]+?)(?:: (.*))?$/.exec(line);
    if (exc) {
      found = { exception: exc[1]!, message: exc[2] ?? '' };
      continue;
    }
    const at = /^at: (.+?)(?::(\d+))?$/.exec(line);
    if (at && found !== undefined) {
      found.file = at[1]!;
      if (at[2] !== undefined) found.line = Number(at[2]);
    }
  }
  return found;
}

/** `ValueError: bad init at /src/score.py:6`. */
export function formatInitError(e: InitError): string {
  const where = e.file === undefined ? '' : ` at ${e.file}${e.line === undefined ? '' : `:${e.line}`}`;
  return `${e.exception}${e.message === '' ? '' : `: ${e.message}`}${where}`;
}
