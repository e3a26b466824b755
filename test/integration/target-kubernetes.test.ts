// The service target contract, run against the Kubernetes target on the test stand-in for a cluster (test/helpers/kube: an
// imitation of an API server, scheduler and kubelet that runs pods with Docker; no real cluster can run here).
import { after } from 'node:test';
import { cleanup, tempDir, up } from '../helpers/control-plane.js';
import { dockerSkip, ensureBaseImage, removeLocalImages, removeRegistryNamespace, TEST_REGISTRY, uniqueNamespace } from '../helpers/docker.js';
import { startKubeStandIn, type KubeStandIn } from '../helpers/kube/index.js';
import { fixture, stopPlane, withCli } from '../helpers/services.js';
import { serviceTargetContract } from '../contract/service-target.js';

const skipped = await dockerSkip();
const namespace = uniqueNamespace();
const clusters: KubeStandIn[] = [];

after(async () => {
  for (const k of clusters) await k.close().catch(() => undefined);
  if (skipped === false) {
    await removeLocalImages(`${TEST_REGISTRY}/${namespace}/`).catch(() => undefined);
    await removeRegistryNamespace(namespace).catch(() => undefined);
  }
  cleanup();
});

serviceTargetContract({
  name: 'kubernetes',
  skip: async () => {
    if (skipped !== false) return skipped;
    await ensureBaseImage();
    return undefined;
  },
  plane: async () => {
    const kube = await startKubeStandIn({ namespace: 'berth', kubelet: { backoffBaseMs: 500 }, nodes: [{ name: 'node-1', allocatable: { cpu: '8', memory: '16Gi', pods: '110' } }] });
    clusters.push(kube);
    const flags = ['--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'berth', '--registry', `${TEST_REGISTRY}/${namespace}`, '--schedule-timeout', '20s'];
    const plane = withCli(await up(tempDir('berth-kube-home-'), flags));
    return Object.assign(plane, { upFlags: flags, close: async () => { await stopPlane(plane); await kube.close(); } });
  },
  source: () => fixture('.'),
});
