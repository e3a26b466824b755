// A docker generation's image: the images part turns its environment and source snapshot into one (reused, pulled or built), with an event saying which.
import { join } from 'node:path';
import { parseEnvRef } from '../environments/env-schema.js';
import type { Environments } from '../environments/environments.js';
import type { Images } from '../../images/index.js';
import { imageEnvironment } from '../../images/environment.js';
import type { ContainerImage } from '../../targets/types.js';
import type { EventLog } from './events.js';
import type { Generation } from './replicas.js';

export async function ensureImage(
  parts: { readonly images: () => Promise<Images> },
  environments: Environments | undefined,
  events: EventLog,
  g: Generation,
  signal: AbortSignal,
  progress: (text: string) => void,
): Promise<ContainerImage> {
  const images = await parts.images();
  const ref = g.spec.environment?.ref;
  const environment = ref === undefined || environments === undefined ? undefined : imageEnvironment(environments, parseEnvRef(ref));
  progress('preparing the image (built once per environment and source, then reused)');
  const built = await images.ensure({ service: g.service, sourceDir: join(g.dir, 'source'), ...(environment === undefined ? {} : { environment }) }, signal, progress);
  const data = { tag: built.tag, ref: built.ref, outcome: built.outcome, layers_built: built.layersBuilt, ...(built.why === undefined ? {} : { why: built.why }) };
  if (built.outcome === 'built') {
    events.add(g.service, { type: 'ImageBuilt', message: `Built image ${built.tag} (layers: ${built.layersBuilt.join(', ')})${built.why === undefined ? '' : `: ${built.why}`}`, data });
  } else if (built.outcome === 'pulled') {
    events.add(g.service, { type: 'ImagePulled', message: `Pulled image ${built.tag} from the registry: nothing to build`, data });
  } else {
    events.add(g.service, { type: 'ImageReused', message: `Image ${built.tag} is already here: nothing to build`, data });
  }
  return { ref: built.ref, node: built.node, berthBin: built.berthBin, python: built.python, appRoot: built.appRoot, env: built.env };
}
