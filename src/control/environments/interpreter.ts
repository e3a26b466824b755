// Asks a Python interpreter what it exactly is: the executable, implementation and version that go into the build's cache key.
import { execFile } from 'node:child_process';
import type { EnvSnapshot } from '../../core/home.js';
import { interpreterSchema, type Interpreter } from './env-schema.js';
import { specInvalid } from './requirements.js';

/** Probes one interpreter; injected so unit tests need no Python. */
export type InterpreterProbe = (python: string) => Promise<Interpreter>;

const PROBE = 'import json, platform, sys; print(json.dumps({"executable": sys.executable, "implementation": platform.python_implementation(), "version": platform.python_version()}))';

/** A probe that runs the interpreter with the given environment (its PATH finds a bare `python3`). */
export function pythonProbe(env: EnvSnapshot, timeoutMs = 15_000): InterpreterProbe {
  return (python) =>
    new Promise((resolve, reject) => {
      // The API refuses unusable paths first; execFile throws (rather than calling back) on any it cannot even try.
      try {
        execFile(python, ['-I', '-c', PROBE], { env: env as NodeJS.ProcessEnv, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
          if (err !== null) {
            const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (or not on the control plane\'s PATH)' : (stderr.trim().split('\n').at(-1) || err.message);
            reject(specInvalid('--python', `cannot run the interpreter ${python}: ${why}`));
            return;
          }
          try {
            const found = interpreterSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));
            // An empty sys.executable happens for embedded interpreters; the path as given is the best we have then.
            resolve({ ...found, executable: found.executable === '' ? python : found.executable });
          } catch {
            reject(specInvalid('--python', `${python} did not answer like a Python 3 interpreter: ${stdout.slice(0, 200)}`));
          }
        });
      } catch (err) {
        reject(specInvalid('--python', `cannot run the interpreter: ${err instanceof Error ? err.message : String(err)}`));
      }
    });
}
