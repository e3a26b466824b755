// One control plane per diagnose test file, with the flags those tests need, and the deploy/diagnose calls they share.
import { before, after } from 'node:test';
import { cleanup } from './control-plane.js';
import { fixture, startPlane, stopPlane, type Plane } from './services.js';
import type { DiagnosisView } from '../../src/cli/commands/diagnose.js';

export interface DiagnosePlane {
  readonly plane: () => Plane;
  deploy(name: string, script: string, extra?: readonly string[]): ReturnType<Plane['cli']>;
  diagnosis(name: string): Promise<DiagnosisView>;
}

/** Registers before/after hooks for the calling test file: a plane with room for a GPU request, short back-offs. */
export function useDiagnosePlane(): DiagnosePlane {
  let plane: Plane | undefined;
  before(async () => {
    plane = await startPlane(['--capacity', 'cpu=16,memory_gb=16,gpu=1', '--schedule-timeout', '60s', '--restart-backoff', '500ms']);
  });
  after(async () => {
    if (plane !== undefined) await stopPlane(plane);
    cleanup();
  });
  const live = (): Plane => {
    if (plane === undefined) throw new Error('the control plane is not started yet');
    return plane;
  };
  return {
    plane: live,
    deploy: (name, script, extra = []) => live().cli(['deploy', '--name', name, '--entry-script', script, '--source-dir', fixture('.'), '--no-auth', ...extra]),
    diagnosis: async (name) => JSON.parse(await live().ok(['diagnose', name, '--since', '15m', '-o', 'json'])) as DiagnosisView,
  };
}
