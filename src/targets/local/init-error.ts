// Reads the entry script's start-up failure (exception, file, line) out of a replica's output after `berth serve` exited with code 3.
import type { FailureClass, InitError } from '../types.js';

const KINDS = new Set(['import', 'missing', 'init', 'timeout', 'spawn', 'warmup']);
/** Exceptions of init() that say a file or model is not there: the same on every run. */
const MISSING_FILE = new Set(['ModelNotFoundError', 'FileNotFoundError']);
/** What the stderr report's first line says for each kind (when no structured line was logged). */
const REPORT_KINDS: ReadonlyArray<readonly [RegExp, NonNullable<InitError['kind']>]> = [
  [/the entry script failed to import/, 'import'],
  [/the entry script does not define/, 'missing'],
  [/init\(\) raised an exception/, 'init'],
  [/init\(\) did not finish in time/, 'timeout'],
  [/the worker process could not be started/, 'spawn'],
  [/the warm-up request failed/, 'warmup'],
];

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
      ...(typeof o.kind === 'string' && KINDS.has(o.kind) ? { kind: o.kind as NonNullable<InitError['kind']> } : {}),
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
  let found: { exception: string; message: string; file?: string; line?: number; kind?: NonNullable<InitError['kind']> } | undefined;
  let kind: NonNullable<InitError['kind']> | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    for (const [re, k] of REPORT_KINDS) if (line.startsWith('berth: ') && re.test(line)) kind = k;
    const exc = /^exception: ([^:]+?)(?:: (.*))?$/.exec(line);
    if (exc) {
      found = { exception: exc[1]!, message: exc[2] ?? '', ...(kind === undefined ? {} : { kind }) };
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

/** Whether retrying can help: a script that does not import, lacks init/run, has no interpreter or no model file fails the same way each time. */
export function failureClass(e: InitError): FailureClass {
  if (e.kind === 'import' || e.kind === 'missing' || e.kind === 'spawn') return 'permanent';
  if (e.kind === 'timeout') return 'transient';
  return MISSING_FILE.has(e.exception) ? 'permanent' : 'transient';
}

/** `ValueError: bad init at /src/score.py:6`. */
export function formatInitError(e: InitError): string {
  const where = e.file === undefined ? '' : ` at ${e.file}${e.line === undefined ? '' : `:${e.line}`}`;
  return `${e.exception}${e.message === '' ? '' : `: ${e.message}`}${where}`;
}
