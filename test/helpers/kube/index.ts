// TEST STAND-IN, NOT KUBERNETES: an in-process imitation of a Kubernetes API server, scheduler, controllers and kubelet,
// written for berth's tests because no real API server can run on the test machines.
//
// It behaves as the real components do for what berth uses, and is meant to refuse whatever a real server refuses:
//   API server  core/v1 namespaces, pods (+status, log), services, secrets, configmaps, events, nodes (read-only);
//               apps/v1 deployments and replicasets (+status, scale); events.k8s.io/v1 events. GET, LIST (label and field
//               selectors, limit/continue), WATCH (bookmarks, 410 Gone, timeoutSeconds), POST, PUT (409 on a stale
//               resourceVersion), PATCH (server-side apply with managedFields, merge, JSON, strategic), DELETE
//               (grace periods, propagationPolicy, finalizers). Every object is checked against the official OpenAPI
//               schema (kubernetes-models) and the server's own validation (422 Status bodies in the real wording);
//               undeclared fields: apply → 500 "field not declared in schema" (as real servers answer), create/update
//               → dropped with a Warning header, or 400 with fieldValidation=Strict. Bearer token or 401.
//   scheduler   places pending pods on the configured nodes by their requests; FailedScheduling in kube-scheduler's words.
//   controllers Deployments → ReplicaSets → pods (rolling updates, scaling, status and conditions); garbage collection.
//   kubelet     runs pods with the Docker engine (see kubelet/*.ts for what it does and where it differs).
//
// API for tests:
//   const kube = await startKubeStandIn({ nodes, backoffBaseMs, namespace, registry, kubelet, watchHistory, bookmarkIntervalMs });
//   kube.url, kube.kubeconfigPath (for `--kubeconfig`), kube.token, kube.namespace
//   kube.pods(ns?), kube.events(ns?), kube.get(resource, ns, name), kube.waitFor(fn, timeoutMs, what)
//   kube.compact() (forget the watch history: provokes 410), kube.store (raw access), await kube.close()
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Context, NodeSpec } from './context.js';
import { EventRecorder } from './events.js';
import { makeServer } from './http.js';
import { makeTls, writeKubeconfig } from './kubeconfig.js';
import { createNodes, DEFAULT_NODES } from './nodes.js';
import { EVENTS, NAMESPACES, PODS, RESOURCES, type ResourceInfo } from './resources.js';
import { Store } from './store.js';
import type { KObject } from './types.js';
import { startControllers, type Controllers, type KubeletOptions } from './controllers.js';

export type { NodeSpec } from './context.js';
export type { KObject } from './types.js';

export interface KubeStandInOptions {
  /** Nodes the scheduler places pods on (default: one node with 4 CPUs and 8Gi). */
  readonly nodes?: readonly NodeSpec[];
  /** The kubelet's restart back-off base (the real one: 10 s, doubling to 5 min). */
  readonly backoffBaseMs?: number;
  /** A namespace to create besides `default` (and the kubeconfig context's namespace). */
  readonly namespace?: string;
  /** The registry images are pulled from (e.g. 127.0.0.1:5000); informational, pulls use the image reference. */
  readonly registry?: string;
  /** Run pods with Docker (default true); false: pods are scheduled but stay Pending (API-only tests). */
  readonly kubelet?: boolean | KubeletOptions;
  /** Watch events kept for resuming watches (default 1000); older resourceVersions get 410 Gone. */
  readonly watchHistory?: number;
  /** How often watches with allowWatchBookmarks=true get a BOOKMARK (default 60 s, as the real server's ~1 min). */
  readonly bookmarkIntervalMs?: number;
}

export interface KubeStandIn {
  /** https://127.0.0.1:PORT (its certificate is in the kubeconfig), or http:// when openssl is missing. */
  readonly url: string;
  /** The certificate to trust for `url` (undefined: plain HTTP). */
  readonly ca: Buffer | undefined;
  readonly kubeconfigPath: string;
  readonly token: string;
  readonly namespace: string;
  readonly store: Store;
  pods(namespace?: string): KObject[];
  events(namespace?: string): KObject[];
  get(resource: string, namespace: string | undefined, name: string): KObject | undefined;
  /** Resolves with fn's first non-undefined answer, checked on every change (and every 200 ms). */
  waitFor<T>(fn: () => T | undefined, timeoutMs?: number, what?: string): Promise<T>;
  compact(): void;
  close(): Promise<void>;
}

export async function startKubeStandIn(options: KubeStandInOptions = {}): Promise<KubeStandIn> {
  const store = new Store(options.watchHistory ?? 1000);
  const namespace = options.namespace ?? 'default';
  for (const ns of new Set(['default', 'kube-system', namespace])) {
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }
  createNodes(store, options.nodes ?? DEFAULT_NODES);
  const token = randomBytes(24).toString('base64url');
  const ctx: Context = { store, token, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, watches: new Set() };
  const recorder = new EventRecorder(store);
  const kubeletOptions: KubeletOptions | undefined = options.kubelet === false ? undefined : { backoffBaseMs: options.backoffBaseMs ?? 10_000, ...(typeof options.kubelet === 'object' ? options.kubelet : {}) };
  const controllers: Controllers = startControllers(ctx, recorder, kubeletOptions);
  const dir = mkdtempSync(join(tmpdir(), 'berth-kube-standin-'));
  const tls = makeTls(dir);
  const server = makeServer(ctx, tls);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, url, token, namespace, tls?.cert);
  const byName = (resource: string): ResourceInfo => {
    const r = RESOURCES.find((x) => x.resource === resource || `${x.resource}.${x.group}` === resource);
    if (r === undefined) throw new Error(`the stand-in has no resource ${resource}`);
    return r;
  };
  return {
    url, ca: tls?.cert, kubeconfigPath, token, namespace, store,
    pods: (ns) => store.list(PODS, ns),
    events: (ns) => store.list(EVENTS, ns),
    get: (resource, ns, name) => store.get(byName(resource), ns, name),
    waitFor: (fn, timeoutMs = 30_000, what = 'condition') => new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = fn();
        if (v === undefined) return false;
        done();
        resolve(v);
        return true;
      };
      const unsubscribe = store.subscribe(() => void check());
      const tick = setInterval(check, 200);
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      function done(): void {
        unsubscribe();
        clearInterval(tick);
        clearTimeout(timer);
      }
      check();
    }),
    compact: () => store.compact(),
    close: async () => {
      for (const res of ctx.watches) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await controllers.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
