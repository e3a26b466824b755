// The service target contract, run against the local target with the docker runtime: real containers, a real registry.
import { after } from 'node:test';
import { cleanup } from '../helpers/control-plane.js';
import { dockerSkip, ensureBaseImage, removeLocalImages, removeRegistryNamespace, TEST_REGISTRY, uniqueNamespace } from '../helpers/docker.js';
import { fixture, startPlane, stopPlane } from '../helpers/services.js';
import { serviceTargetContract } from '../contract/service-target.js';

const skipped = await dockerSkip();
const namespace = uniqueNamespace();
const FLAGS = ['--capacity', 'cpu=8,memory_gb=8', '--restart-backoff', '1s', '--runtime', 'docker', '--registry', `${TEST_REGISTRY}/${namespace}`];

after(async () => {
  if (skipped === false) {
    await removeLocalImages(`${TEST_REGISTRY}/${namespace}/`).catch(() => undefined);
    await removeRegistryNamespace(namespace).catch(() => undefined);
  }
  cleanup();
});

serviceTargetContract({
  name: 'docker',
  skip: async () => {
    if (skipped !== false) return skipped;
    await ensureBaseImage();
    return undefined;
  },
  plane: async () => {
    const plane = await startPlane(FLAGS);
    return Object.assign(plane, { upFlags: FLAGS, close: () => stopPlane(plane) });
  },
  source: () => fixture('.'),
});
