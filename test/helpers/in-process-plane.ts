// A control plane started in this test process on a free loopback port, in a temporary home: one per test file, closed after it.
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../../src/control/app.js';
import { parseControlSettings } from '../../src/control/settings.js';

/** Registers before/after hooks; `plane()` is the running plane (after `before` ran), `home` its folder. */
export function inProcessPlane(prefix: string): { readonly home: string; plane(): ControlPlane } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  let running: ControlPlane | undefined;
  before(async () => {
    running = await startControlPlane(parseControlSettings({ home, port: 0 }, {}), pino({ level: 'silent' }));
  });
  after(async () => {
    await running?.close();
    rmSync(home, { recursive: true, force: true });
  });
  return {
    home,
    plane: () => {
      if (running === undefined) throw new Error('the control plane has not started yet');
      return running;
    },
  };
}
