// The report printed when an entry script cannot start: exception, file and line, traceback, and the model directory tree.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { StartupFailure } from './runtime/types.js';
import type { ErrorCode } from '../errors/catalogue.js';

const MAX_TREE_ENTRIES = 200;

/** The catalogue code for a startup failure kind. */
export function startupErrorCode(failure: StartupFailure): ErrorCode {
  switch (failure.kind) {
    case 'import': return 'ENTRY_SCRIPT_IMPORT_FAILED';
    case 'missing': return 'ENTRY_SCRIPT_MISSING_FUNCTION';
    case 'timeout': return 'INIT_TIMEOUT';
    case 'spawn': return 'PYTHON_NOT_FOUND';
    case 'init': return 'INIT_FAILED';
    case 'warmup': return 'WARMUP_FAILED';
  }
}

/** The first entries of the model directory, depth first, sorted, with file sizes; folders end in `/`. */
export function modelDirTree(modelDir: string | undefined): string[] {
  if (modelDir === undefined) return ['(no model directory was given: --model-dir / AZUREML_MODEL_DIR is not set)'];
  const lines: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      lines.push(`(cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      return;
    }
    for (const name of names) {
      if (lines.length >= MAX_TREE_ENTRIES) return;
      const full = join(dir, name);
      const rel = relative(modelDir, full);
      const st = statSync(full, { throwIfNoEntry: false });
      if (st?.isDirectory()) {
        lines.push(`${rel}/`);
        walk(full);
      } else {
        lines.push(`${rel} (${st?.size ?? '?'} bytes)`);
      }
    }
  };
  walk(modelDir);
  if (lines.length === 0) lines.push('(empty)');
  if (lines.length >= MAX_TREE_ENTRIES) lines.push(`… (listing stops after ${MAX_TREE_ENTRIES} entries)`);
  return lines;
}

/** Human-readable lines for stderr. */
export function formatStartupReport(failure: StartupFailure, workerId: number, entryScript: string, modelDir: string | undefined): string[] {
  const what: Record<StartupFailure['kind'], string> = {
    import: 'the entry script failed to import',
    missing: `the entry script does not define ${(failure.missing ?? ['init', 'run']).join(' and ')}()`,
    init: 'init() raised an exception',
    timeout: 'init() did not finish in time',
    spawn: 'the worker process could not be started',
    warmup: 'the warm-up request failed',
  };
  const out = [`berth: ${what[failure.kind]} (worker ${workerId})`, `  entry script: ${entryScript}`];
  out.push(`  exception: ${failure.exception}: ${failure.message}`);
  if (failure.file !== undefined) out.push(`  at: ${failure.file}${failure.line === undefined ? '' : `:${failure.line}`}`);
  if (failure.traceback !== undefined && failure.traceback !== '') {
    out.push('', ...failure.traceback.trimEnd().split('\n'));
  }
  out.push('', `model directory ${modelDir ?? ''} (AZUREML_MODEL_DIR):`, ...modelDirTree(modelDir).map((l) => `  ${l}`));
  return out;
}
