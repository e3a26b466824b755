// Maps coded errors to the CLI's process exit codes: the one place that decides them.
import type { ErrorCode } from '../errors/catalogue.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** The classic inference server's code for an entry script that cannot start. */
export const EXIT_ENTRY_SCRIPT = 3;

const byCode: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: EXIT_USAGE,
  INVALID_SETTINGS: EXIT_USAGE,
  VALIDATION_FAILED: EXIT_USAGE,
  PATH_NOT_FOUND: EXIT_USAGE,
  ENVIRONMENT_SPEC_INVALID: EXIT_USAGE,
  ADMIN_TOKEN_INVALID: EXIT_USAGE,
  ADMIN_TOKEN_REQUIRED: EXIT_USAGE,
  ENTRY_SCRIPT_NOT_FOUND: EXIT_ENTRY_SCRIPT,
  ENTRY_SCRIPT_IMPORT_FAILED: EXIT_ENTRY_SCRIPT,
  ENTRY_SCRIPT_MISSING_FUNCTION: EXIT_ENTRY_SCRIPT,
  INIT_FAILED: EXIT_ENTRY_SCRIPT,
  INIT_TIMEOUT: EXIT_ENTRY_SCRIPT,
  WARMUP_FAILED: EXIT_ENTRY_SCRIPT,
  PYTHON_NOT_FOUND: EXIT_ENTRY_SCRIPT,
};

export function exitCodeFor(code: ErrorCode): number {
  return byCode[code] ?? EXIT_FAILURE;
}
