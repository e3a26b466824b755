// REST route of `berth service debug`: the exact snapshot of a service's running version, with its models laid out in a fresh temp dir.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { materializeModels, type MountableModel } from '../materialize.js';
import type { ServiceStore } from '../services/service-store.js';
import type { ModelVersionRef } from '../services/spec.js';
import { serviceNameSchema } from '../services/spec.js';
import { route, type Route } from './route.js';

export const debugSnapshotSchema = z.object({
  service: z.string(),
  generation: z.number().int(),
  entry_script: z.string().describe('absolute path of the entry script in the stored source snapshot'),
  source_dir: z.string(),
  user_source_dir: z.string().describe('the folder the snapshot was taken from (source_dir as deployed, or the entry script\'s folder): a debugger maps it to source_dir'),
  model_dir: z.string().optional().describe('AZUREML_MODEL_DIR laid out for this run (a temp dir the caller removes)'),
  models_root: z.string().optional().describe('the temp dir holding model_dir'),
  python: z.string().optional().describe('the environment\'s interpreter'),
  env: z.record(z.string(), z.string()).describe('the environment\'s variables'),
  environment: z.string().optional(),
});
export type DebugSnapshot = z.infer<typeof debugSnapshotSchema>;

export interface DebugDeps {
  readonly store: ServiceStore;
  readonly generationDir: (service: string, generation: number) => string;
  readonly mountable: (refs: readonly ModelVersionRef[]) => MountableModel[];
}

export function debugRoutes(d: DebugDeps): Route[] {
  return [
    route({
      method: 'POST', path: '/v1/services/{name}/debug-snapshot', operationId: 'debugSnapshot',
      summary: 'Lay out a service\'s running version for a local foreground run (berth service debug): snapshot paths, models in a temp dir, environment',
      params: z.object({ name: serviceNameSchema }).strict(),
      responses: { 200: { description: 'what to run', schema: debugSnapshotSchema }, 404: { description: 'no such service (SERVICE_NOT_FOUND)' } },
      handle: async ({ params }) => {
        const svc = d.store.get(params.name);
        const s = svc.spec;
        const dir = d.generationDir(svc.name, svc.generation);
        let models: { model_dir: string; models_root: string } | undefined;
        if (s.models.length > 0) {
          const root = await mkdtemp(join(tmpdir(), `berth-debug-${svc.name}-`));
          // One model: its version folder, as replicas get it; several: the azureml-models folder.
          const { modelDir } = await materializeModels(d.mountable(s.models), root);
          models = { model_dir: modelDir, models_root: root };
        }
        const snapshot: DebugSnapshot = {
          service: svc.name, generation: svc.generation,
          entry_script: join(dir, 'source', s.snapshot_entry_script), source_dir: join(dir, 'source'),
          user_source_dir: s.source_dir ?? dirname(s.entry_script),
          ...(models ?? {}),
          ...(s.environment?.python === undefined ? {} : { python: s.environment.python }),
          env: { ...(s.environment?.env ?? {}) },
          ...(s.environment === undefined ? {} : { environment: s.environment.ref }),
        };
        return { status: 200, json: snapshot };
      },
    }),
  ];
}
