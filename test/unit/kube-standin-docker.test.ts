// The Kubernetes stand-in's kubelet with real containers: a Deployment of berth's own app image reaching Ready and
// answering at podIP:5001, an init() failure in CrashLoopBackOff with the traceback as termination message and in
// previous logs, and an OOM kill under a memory limit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'undici';
import type { BuiltImage } from '../../src/images/index.js';
import { cleanup, down, ok, repoRoot, tempDir, up } from '../helpers/control-plane.js';
import { dockerSkip, ensureBaseImage } from '../helpers/docker.js';
import { startKubeStandIn, type KObject, type KubeStandIn } from '../helpers/kube/index.js';
import { applyOptions, clients } from '../helpers/kube/client.js';

const skip = await dockerSkip();
let image: BuiltImage | undefined;
let home = '';
let kube: KubeStandIn;
let c: ReturnType<typeof clients>;
const ns = 'berth-docker';

before(async () => {
  if (skip !== false) return;
  await ensureBaseImage();
  home = tempDir('berth-kube-docker-');
  await up(home);
  image = JSON.parse(await ok(['image', 'build', '--source-dir', join(repoRoot, 'test/fixtures'), '-o', 'json'], home)) as BuiltImage;
  kube = await startKubeStandIn({ namespace: ns, backoffBaseMs: 300, nodes: [{ name: 'node-1', allocatable: { cpu: '2', memory: '8Gi' } }] });
  c = clients(kube);
}, { timeout: 15 * 60_000 });

after(async () => {
  if (kube !== undefined) await kube.close();
  if (home !== '') await down(home).catch(() => undefined);
  cleanup();
});

function serving(name: string, script: string, extra: Record<string, unknown> = {}): object {
  const img = image as BuiltImage;
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: 'serve', image: img.tag, imagePullPolicy: 'IfNotPresent', command: [img.node, img.berthBin],
            args: ['serve', '--entry-script', `${img.appRoot}/${script}`, '--host', '0.0.0.0', '--port', '5001', '--python', img.python],
            env: Object.entries(img.env).map(([k, v]) => ({ name: k, value: v })), ports: [{ containerPort: 5001 }],
            readinessProbe: { httpGet: { path: '/ready', port: 5001 }, periodSeconds: 1, failureThreshold: 3 },
            terminationMessagePolicy: 'FallbackToLogsOnError', ...extra,
          }],
        },
      },
    },
  };
}

const apply = (name: string, body: object): Promise<unknown> => c.apps.patchNamespacedDeployment({ name, namespace: ns, body, fieldManager: 'berth', force: true }, applyOptions);
const podOf = (app: string): KObject | undefined => kube.pods(ns).find((p) => p.metadata.labels?.app === app && p.metadata.deletionTimestamp === undefined);
const serve = (p: KObject | undefined): { lastState?: { terminated?: { reason?: string; message?: string; exitCode?: number } }; state?: { waiting?: { reason?: string; message?: string } }; restartCount?: number; ready?: boolean } | undefined => p?.status?.containerStatuses?.[0];

describe('kubelet with Docker', { skip }, () => {
  it('runs berth serve from its image: Ready, and answering /ready and /score at podIP:5001', async () => {
    await apply('ok', serving('ok', 'noop_score.py'));
    const pod = await kube.waitFor(() => { const p = podOf('ok'); return serve(p)?.ready === true ? p : undefined; }, 120_000, 'the pod to be Ready');
    const ip = pod.status.podIP as string;
    assert.match(ip, /^127\.0\.\d+\.\d+$/);
    const ready = await request(`http://${ip}:5001/ready`);
    assert.equal(ready.statusCode, 200);
    await ready.body.dump();
    const score = await request(`http://${ip}:5001/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(score.statusCode, 200);
    assert.deepEqual(await score.body.json(), { ok: true });
    const d = await kube.waitFor(() => { const x = kube.get('deployments', ns, 'ok'); return x?.status?.readyReplicas === 1 ? x : undefined; }, 10_000, 'readyReplicas 1');
    assert.ok(d.status.conditions.some((x: { type: string; status: string }) => x.type === 'Available' && x.status === 'True'));
    const reasons = kube.events(ns).filter((e) => e.involvedObject?.name === pod.metadata.name).map((e) => e.reason);
    for (const r of ['Scheduled', 'Pulled', 'Created', 'Started']) assert.ok(reasons.includes(r), `${r} in ${reasons.join(',')}`);
  });

  it('puts an init() failure in CrashLoopBackOff with the traceback as termination message and previous log', async () => {
    await apply('bad', serving('bad', 'init_fails.py'));
    const pod = await kube.waitFor(() => { const p = podOf('bad'); return serve(p)?.state?.waiting?.reason === 'CrashLoopBackOff' && (serve(p)?.restartCount ?? 0) >= 1 ? p : undefined; }, 120_000, 'CrashLoopBackOff');
    const s = serve(pod);
    assert.match(s?.state?.waiting?.message ?? '', new RegExp(`^back-off \\S+ restarting failed container=serve pod=${pod.metadata.name}_${ns}\\(${pod.metadata.uid}\\)$`));
    assert.equal(s?.lastState?.terminated?.reason, 'Error');
    assert.match(s?.lastState?.terminated?.message ?? '', /ValueError: bad init/);
    const log = await c.core.readNamespacedPodLog({ name: pod.metadata.name ?? '', namespace: ns, container: 'serve', previous: true });
    assert.match(log, /bad init/);
    assert.ok(kube.events(ns).some((e) => e.reason === 'BackOff' && e.message === `Back-off restarting failed container serve in pod ${pod.metadata.name}_${ns}(${pod.metadata.uid})`));
  });

  it('shows OOMKilled when a container goes over its memory limit', async () => {
    await apply('leak', serving('leak', 'leak_score.py', { resources: { limits: { memory: '300Mi' } } }));
    const pod = await kube.waitFor(() => { const p = podOf('leak'); return serve(p)?.ready === true ? p : undefined; }, 120_000, 'the leaking pod to be Ready');
    const ip = pod.status.podIP as string;
    for (let i = 0; i < 8; i++) {
      const r = await request(`http://${ip}:5001/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mb": 100}' }).catch(() => undefined);
      await r?.body.dump();
      if (serve(podOf('leak'))?.lastState?.terminated !== undefined) break;
    }
    const after = await kube.waitFor(() => { const p = podOf('leak'); return serve(p)?.lastState?.terminated !== undefined ? p : undefined; }, 60_000, 'the OOM kill');
    assert.equal(serve(after)?.lastState?.terminated?.reason, 'OOMKilled');
    assert.equal(serve(after)?.lastState?.terminated?.exitCode, 137);
  });
});
