// Release signals for fixtures that must stay busy until a test has made its checks: a file the fixture waits for.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './control-plane.js';
import { fixture } from './serve-process.js';

export interface Gate {
  /** The file the fixture waits for; it does not exist until release(). */
  readonly path: string;
  release(): void;
  /** Closes the gate again: what waits for it from now on waits for the next release(). */
  rearm(): void;
}

/** A fresh gate (in a temp folder that cleanup() removes). */
export function gate(): Gate {
  const path = join(tempDir('berth-gate-'), 'release');
  return { path, release: () => writeFileSync(path, ''), rearm: () => rmSync(path, { force: true }) };
}

/**
 * A source dir for deploys whose init() waits for its gate: `gated_init.py` and `release.path`, the gate's path, which
 * the deploy's copy of the source dir keeps (a replica gets no variables of the test's own).
 */
export function gatedSource(): Gate & { readonly dir: string; readonly script: 'gated_init.py' } {
  const dir = tempDir('berth-gated-src-');
  copyFileSync(fixture('gated_init.py'), join(dir, 'gated_init.py'));
  const g = gate();
  writeFileSync(join(dir, 'release.path'), `${g.path}\n`);
  return { ...g, dir, script: 'gated_init.py' };
}
