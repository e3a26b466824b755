// Helpers for tests of the stand-in: @kubernetes/client-node clients from its kubeconfig, and small manifests.
import * as k8s from '@kubernetes/client-node';
import type { KubeStandIn } from './index.js';

export function clients(kube: Pick<KubeStandIn, 'kubeconfigPath'>): { kc: k8s.KubeConfig; core: k8s.CoreV1Api; apps: k8s.AppsV1Api } {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
}

export const applyOptions = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
export const mergeOptions = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** The HTTP code and Status body of a failed client call. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; body: { message?: string; reason?: string; code?: number; details?: { causes?: { reason?: string; field?: string; message?: string }[] } } }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    if (typeof e.code !== 'number') throw err;
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as object) : (e.body as object);
    return { code: e.code, body: body as never };
  }
  throw new Error('the call succeeded');
}

/** A Deployment manifest (plain JSON, as berth sends it). */
export function deployment(name: string, o: { image?: string; replicas?: number; labels?: Record<string, string>; container?: Record<string, unknown>; spec?: Record<string, unknown> } = {}): k8s.V1Deployment {
  const labels = o.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels },
    spec: {
      replicas: o.replicas ?? 1, selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'serve', image: o.image ?? 'berth/app:test', ...(o.container ?? {}) }], ...(o.spec ?? {}) } },
    },
  } as k8s.V1Deployment;
}
