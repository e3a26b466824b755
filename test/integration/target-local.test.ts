// The service target contract, run against the local target with the process runtime (the embedded default).
import { after } from 'node:test';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane } from '../helpers/services.js';
import { serviceTargetContract } from '../contract/service-target.js';

after(cleanup);

const FLAGS = ['--capacity', 'cpu=8,memory_gb=8', '--restart-backoff', '1s'];

serviceTargetContract({
  name: 'local',
  skip: () => Promise.resolve(undefined),
  plane: async () => {
    const plane = await startPlane(FLAGS);
    return Object.assign(plane, { upFlags: FLAGS, close: () => stopPlane(plane) });
  },
  source: () => fixture('.'),
});
