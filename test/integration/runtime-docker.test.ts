// The replica runtime contract, run against the docker runtime (bridge and host networks): the same lifecycle checks as for processes, with real containers.
import { after, before } from 'node:test';
import { join } from 'node:path';
import type { BuiltImage } from '../../src/images/index.js';
import { DockerRuntime } from '../../src/targets/docker/docker-runtime.js';
import { systemClock } from '../../src/core/clock.js';
import type { ContainerImage } from '../../src/targets/types.js';
import { cleanup, down, ok, repoRoot, tempDir, up } from '../helpers/control-plane.js';
import { connection, dockerSkip, ensureBaseImage } from '../helpers/docker.js';
import { fixtureSpec, testSupervisor } from '../helpers/local-target.js';
import { replicaRuntimeContract } from '../contract/replica-runtime.js';

const skipped = await dockerSkip();
let image: ContainerImage | undefined;
let home = '';

before(async () => {
  if (skipped !== false) return;
  await ensureBaseImage();
  // The fixtures folder as a service's source, in an image of its own (local only: no registry needed here).
  home = tempDir('berth-runtime-docker-');
  await up(home);
  const built = JSON.parse(await ok(['image', 'build', '--source-dir', join(repoRoot, 'test/fixtures'), '-o', 'json'], home)) as BuiltImage;
  image = { ref: built.ref, node: built.node, berthBin: built.berthBin, python: built.python, appRoot: built.appRoot, env: built.env };
});

after(async () => {
  if (home !== '') await down(home).catch(() => undefined);
  cleanup();
});

for (const network of ['bridge', 'host'] as const) replicaRuntimeContract({
  name: `docker, ${network} network`,
  skip: () => Promise.resolve(skipped === false ? undefined : skipped),
  supervisor: (o = {}) => {
    const docker = new DockerRuntime({ docker: () => connection.get(), clock: systemClock, home: home || tempDir('berth-runtime-docker-'), network });
    return testSupervisor({ docker, ...(o.backoffMs === undefined ? {} : { backoff: { baseMs: o.backoffMs, capMs: o.backoffMs * 4, resetAfterMs: 60_000 } }) });
  },
  spec: (script, overrides = {}) => {
    if (image === undefined) throw new Error('the test image was not built');
    // Scripts are in the image's source root; the host paths of the process runtime do not apply.
    return Promise.resolve(fixtureSpec(script, { runtime: 'docker', entryScript: script, container: image, ...overrides }));
  },
});
