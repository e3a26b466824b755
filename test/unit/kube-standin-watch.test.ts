// The Kubernetes stand-in's watches (bookmarks, 410 Gone, timeoutSeconds), an informer of @kubernetes/client-node on it,
// the scheduler's FailedScheduling wording, and the deployment controller's ReplicaSets and pods (no Docker: kubelet off).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startKubeStandIn, type KubeStandIn } from '../helpers/kube/index.js';
import { applyOptions, clients, deployment } from '../helpers/kube/client.js';
import { fitError } from '../helpers/kube/scheduler.js';

let kube: KubeStandIn;
let c: ReturnType<typeof clients>;
const ns = 'watched';

before(async () => {
  kube = await startKubeStandIn({
    namespace: ns, kubelet: false, watchHistory: 50, bookmarkIntervalMs: 100,
    nodes: ['a', 'b', 'c'].map((n) => ({ name: `node-${n}`, allocatable: { cpu: '2', memory: '4Gi' } })),
  });
  c = clients(kube);
});
after(async () => kube.close());

interface Event { type: string; object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string; message?: string } }

function watch(path: string, query: Record<string, string>, until: (events: Event[]) => boolean): Promise<{ events: Event[]; err: unknown }> {
  const events: Event[] = [];
  return new Promise((resolve) => {
    let ctl: AbortController | undefined;
    void new k8s.Watch(c.kc).watch(path, query, (type, object) => {
      events.push({ type, object } as Event);
      if (until(events)) ctl?.abort();
    }, (err) => resolve({ events, err })).then((x) => (ctl = x));
  });
}

describe('watches', () => {
  it('streams changes after a resourceVersion, with bookmarks, and ends at timeoutSeconds', async () => {
    const start = (await c.core.listNamespacedConfigMap({ namespace: ns })).metadata?.resourceVersion ?? '';
    await c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'one', labels: { app: 'x' } }, data: { a: '1' } } });
    await c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'two', labels: { app: 'y' } } } });
    await c.core.patchNamespacedConfigMap({ name: 'one', namespace: ns, body: { data: { a: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const { events } = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: start, allowWatchBookmarks: 'true', labelSelector: 'app=x', timeoutSeconds: '1' }, () => false);
    assert.deepEqual(events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata?.name]), [['ADDED', 'one'], ['MODIFIED', 'one']]);
    assert.ok(events.some((e) => e.type === 'BOOKMARK' && e.object.metadata?.resourceVersion !== undefined), 'bookmarks arrive');
  });

  it('answers a resourceVersion older than its history with an ERROR event: 410 Expired', async () => {
    const old = (await c.core.listNamespacedConfigMap({ namespace: ns })).metadata?.resourceVersion ?? '';
    for (let i = 0; i < 60; i++) await c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `filler-${i}` } } });
    const { events } = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: old }, () => false);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'ERROR');
    assert.equal(events[0]?.object.code, 410);
    assert.equal(events[0]?.object.reason, 'Expired');
    assert.match(events[0]?.object.message ?? '', /^too old resource version: \d+ \(\d+\)$/);
  });

  it('keeps an informer of @kubernetes/client-node in step, through a 410 and relist', async () => {
    const path = `/api/v1/namespaces/${ns}/secrets`;
    const informer = k8s.makeInformer(c.kc, path, () => c.core.listNamespacedSecret({ namespace: ns }));
    const seen = new Set<string>();
    informer.on('add', (o) => seen.add(o.metadata?.name ?? ''));
    informer.on('delete', (o) => seen.delete(o.metadata?.name ?? ''));
    await informer.start();
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's1' }, stringData: { k: 'v' } } });
    await kube.waitFor(() => (seen.has('s1') ? true : undefined), 5000, 'the informer to see s1');
    kube.compact();
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's2' } } });
    await c.core.deleteNamespacedSecret({ name: 's1', namespace: ns });
    await kube.waitFor(() => (seen.has('s2') && !seen.has('s1') ? true : undefined), 5000, 'the informer to see s2 and lose s1');
    assert.equal(informer.list().find((s) => s.metadata?.name === 's2')?.metadata?.name, 's2');
    await informer.stop();
  });
});

describe('scheduler and deployment controller', () => {
  it("words FailedScheduling as kube-scheduler does", async () => {
    assert.equal(fitError(3, new Map([['a', ['Insufficient nvidia.com/gpu']], ['b', ['Insufficient nvidia.com/gpu']], ['c', ['Insufficient nvidia.com/gpu']]])),
      '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    const gpu = deployment('gpu', { container: { resources: { limits: { 'nvidia.com/gpu': '1' } } } });
    await c.apps.patchNamespacedDeployment({ name: 'gpu', namespace: ns, body: gpu, fieldManager: 'berth', force: true }, applyOptions);
    const ev = await kube.waitFor(() => kube.events(ns).find((e) => e.reason === 'FailedScheduling'), 5000, 'FailedScheduling');
    assert.equal(ev.message, '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    assert.equal(ev.type, 'Warning');
    const pod = kube.pods(ns).find((p) => p.metadata.name?.startsWith('gpu-'));
    const cond = (pod?.status?.conditions ?? []).find((x: { type: string }) => x.type === 'PodScheduled');
    assert.deepEqual([pod?.status?.phase, cond?.status, cond?.reason], ['Pending', 'False', 'Unschedulable']);
  });

  it('makes a ReplicaSet and pods named and labelled as the real controller, places them, and scales', async () => {
    const d = deployment('web', { replicas: 2, container: { resources: { requests: { cpu: '1500m' } } } });
    await c.apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: d, fieldManager: 'berth', force: true }, applyOptions);
    const pods = await kube.waitFor(() => { const p = kube.pods(ns).filter((x) => x.metadata.labels?.app === 'web' && x.spec.nodeName !== undefined); return p.length === 2 ? p : undefined; }, 5000, 'two placed pods');
    const rs = (await c.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items[0];
    const hash = rs?.metadata?.labels?.['pod-template-hash'] ?? '';
    assert.equal(rs?.metadata?.name, `web-${hash}`);
    for (const p of pods) {
      assert.match(p.metadata.name ?? '', new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.metadata.ownerReferences?.[0]?.name, rs?.metadata?.name);
    }
    assert.notEqual(pods[0]?.spec.nodeName, pods[1]?.spec.nodeName, 'least allocated first');
    await c.apps.patchNamespacedDeploymentScale({ name: 'web', namespace: ns, body: { spec: { replicas: 4 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const ev = await kube.waitFor(() => kube.events(ns).find((e) => e.reason === 'FailedScheduling' && e.involvedObject?.name?.startsWith('web-')), 5000, 'the fourth pod not to fit');
    assert.equal(ev.message, '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    await c.apps.deleteNamespacedDeployment({ name: 'web', namespace: ns, propagationPolicy: 'Foreground' });
    await kube.waitFor(() => (kube.pods(ns).some((x) => x.metadata.labels?.app === 'web') || kube.get('deployments', ns, 'web') !== undefined ? undefined : true), 5000, 'the deployment and its pods to go');
  });
});
