// The Kubernetes API as berth uses it, through the official client: server-side apply, scale, delete, list-and-watch, pod logs; failures as coded errors.
import type { Writable } from 'node:stream';
import {
  AppsV1Api, CoreV1Api, KubeConfig, Log, PatchStrategy, Watch, setHeaderOptions,
  type KubernetesObject, type V1Deployment, type V1Pod, type V1Secret, type V1Service, type CoreV1Event,
} from '@kubernetes/client-node';
import { BerthError } from '../../errors/catalogue.js';

export interface KubeConnection {
  /** A kubeconfig file; none: in-cluster configuration when running in a pod, else the default (~/.kube/config, KUBECONFIG). */
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace: string;
  /** Whether berth runs inside the cluster (KUBERNETES_SERVICE_HOST set). */
  readonly inCluster: boolean;
}

export const FIELD_MANAGER = 'berth';
/** Attempts of a request that keeps meeting 409 Conflict. */
const CONFLICT_RETRIES = 3;

export function loadKubeConfig(c: KubeConnection): KubeConfig {
  const kc = new KubeConfig();
  if (c.kubeconfig !== undefined) kc.loadFromFile(c.kubeconfig);
  else if (c.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (c.context !== undefined) kc.setCurrentContext(c.context);
  return kc;
}

/** A failure of the API server (or of reaching it) as one coded line with its fix. */
export function kubeError(err: unknown, what: string, server: string): BerthError {
  const e = err as { code?: number | string; body?: unknown; message?: string; cause?: { code?: string } };
  const status = typeof e.code === 'number' ? e.code : undefined;
  const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  const message = (body as { message?: string } | undefined)?.message ?? e.message ?? String(err);
  if (status === 401) return new BerthError('KUBERNETES_UNAUTHORIZED', { server, detail: message });
  if (status === 403) return new BerthError('KUBERNETES_FORBIDDEN', { server, what, detail: message });
  if (status === undefined) return new BerthError('KUBERNETES_UNREACHABLE', { server, detail: `${message}${e.cause?.code === undefined ? '' : ` (${e.cause.code})`}` });
  return new BerthError('KUBERNETES_REQUEST_FAILED', { server, what, status, detail: message });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export type WatchEvent<T> = { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; readonly object: T };

export class KubeApi {
  readonly server: string;
  readonly namespace: string;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly watcher: Watch;
  private readonly logs: Log;

  constructor(readonly config: KubeConfig, namespace: string) {
    this.server = config.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
    this.namespace = namespace;
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.watcher = new Watch(config);
    this.logs = new Log(config);
  }

  /** Checks that the API server answers and the namespace exists; a coded error saying which it is otherwise. */
  async check(): Promise<void> {
    try {
      await this.core.readNamespace({ name: this.namespace });
    } catch (err) {
      if (statusCode(err) === 404) throw new BerthError('KUBERNETES_NAMESPACE_NOT_FOUND', { namespace: this.namespace, server: this.server });
      throw kubeError(err, `namespace ${this.namespace}`, this.server);
    }
  }

  /** Server-side apply with berth's field manager: creates or converges; applying the same object again changes nothing. */
  async applyDeployment(d: V1Deployment): Promise<V1Deployment> {
    return this.call(`deployment ${d.metadata?.name ?? ''}`, () => this.apps.patchNamespacedDeployment(
      { name: d.metadata!.name!, namespace: this.namespace, body: d, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    ));
  }

  async applyService(s: V1Service): Promise<V1Service> {
    return this.call(`service ${s.metadata?.name ?? ''}`, () => this.core.patchNamespacedService(
      { name: s.metadata!.name!, namespace: this.namespace, body: s, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    ));
  }

  /** Sets a Deployment's replica count through its scale subresource. */
  async scale(name: string, replicas: number): Promise<void> {
    await this.call(`scale of deployment ${name}`, () => this.apps.patchNamespacedDeploymentScale(
      { name, namespace: this.namespace, body: { spec: { replicas } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ));
  }

  /** A Deployment's wanted replica count, read through its scale subresource. */
  async readScale(name: string): Promise<number> {
    return (await this.call(`scale of deployment ${name}`, () => this.apps.readNamespacedDeploymentScale({ name, namespace: this.namespace }))).spec?.replicas ?? 0;
  }

  /** Marks a pod as the one to remove first when its Deployment scales down. */
  async setDeletionCost(pod: string, cost: number): Promise<void> {
    await this.call(`pod ${pod}`, () => this.core.patchNamespacedPod(
      { name: pod, namespace: this.namespace, body: { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(cost) } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ));
  }

  async applySecret(s: V1Secret): Promise<void> {
    await this.call(`secret ${s.metadata?.name ?? ''}`, () => this.core.patchNamespacedSecret(
      { name: s.metadata!.name!, namespace: this.namespace, body: s, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    ));
  }

  async deleteDeployment(name: string): Promise<void> {
    await this.ignore404(() => this.apps.deleteNamespacedDeployment({ name, namespace: this.namespace, propagationPolicy: 'Foreground' }), `deployment ${name}`);
  }

  async deleteService(name: string): Promise<void> {
    await this.ignore404(() => this.core.deleteNamespacedService({ name, namespace: this.namespace }), `service ${name}`);
  }

  async deletePod(name: string): Promise<void> {
    await this.ignore404(() => this.core.deleteNamespacedPod({ name, namespace: this.namespace }), `pod ${name}`);
  }

  async listDeployments(labelSelector: string): Promise<V1Deployment[]> {
    return (await this.call('deployments', () => this.apps.listNamespacedDeployment({ namespace: this.namespace, labelSelector }))).items;
  }

  async listPods(labelSelector: string): Promise<{ items: V1Pod[]; resourceVersion: string }> {
    const list = await this.call('pods', () => this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }));
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async listEvents(): Promise<{ items: CoreV1Event[]; resourceVersion: string }> {
    const list = await this.call('events', () => this.core.listNamespacedEvent({ namespace: this.namespace }));
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /** Watches a namespaced collection from `resourceVersion`; `done` gets the error (a 410 when the version is too old) or nothing. */
  watch<T extends KubernetesObject>(resource: 'pods' | 'events', query: Record<string, string>, onEvent: (e: WatchEvent<T>) => void, done: (err: unknown) => void): Promise<AbortController> {
    const path = `/api/v1/namespaces/${this.namespace}/${resource}`;
    return this.watcher.watch(path, { allowWatchBookmarks: true, ...query }, (type, object) => onEvent({ type: type as WatchEvent<T>['type'], object: object as T }), done);
  }

  /** Streams a pod container's log into `into`; resolves once the stream ends. */
  streamLog(pod: string, container: string, into: Writable, options: { follow: boolean; previous?: boolean; tailLines?: number; sinceSeconds?: number }): Promise<AbortController> {
    return this.logs.log(this.namespace, pod, container, into, options);
  }

  /** One request; a 409 Conflict (someone wrote in between) is tried again, each call reading afresh. */
  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (err) {
        if (statusCode(err) === 409 && attempt < CONFLICT_RETRIES) continue;
        throw kubeError(err, what, this.server);
      }
    }
  }

  private async ignore404(f: () => Promise<unknown>, what: string): Promise<void> {
    try {
      await f();
    } catch (err) {
      if (statusCode(err) !== 404) throw kubeError(err, what, this.server);
    }
  }
}
