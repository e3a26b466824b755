// Part of the composition root: the Kubernetes target — the cluster's API through the official client, the pod tracker, and the target over them.
import type { Logger } from '../core/logger.js';
import type { ReplicaKeys } from '../core/replica-key.js';
import { BerthError } from '../errors/catalogue.js';
import { KubeApi, loadKubeConfig } from '../targets/kubernetes/kube-api.js';
import { PodTracker } from '../targets/kubernetes/pod-tracker.js';
import type { ContainerImage, ReplicaEvent } from '../targets/types.js';
import type { EventLog } from './services/events.js';
import { KubernetesTarget } from './services/kube-target.js';
import type { Generation } from './services/replicas.js';
import type { ServiceStore } from './services/service-store.js';
import type { ControlSettings } from './settings.js';
import { homeLabel } from '../targets/docker/docker-runtime.js';
import { KUBE_LABELS } from '../targets/kubernetes/manifests.js';
import type { EnvSnapshot } from '../core/home.js';
import { parseRegistry } from '../images/registry-name.js';
import { dockerCredentials } from '../images/registry.js';

export interface KubeTargetParts {
  readonly settings: ControlSettings;
  readonly store: ServiceStore;
  readonly events: EventLog;
  readonly logger: Logger;
  readonly logDir: string;
  readonly now: () => number;
  readonly replicaKeys: ReplicaKeys;
  readonly onEvent: (e: ReplicaEvent) => void;
  readonly drain: (service: string, ids: readonly string[]) => Promise<void>;
  readonly ensureImage: ((g: Generation, signal: AbortSignal, progress: (text: string) => void) => Promise<ContainerImage>) | undefined;
  /** The control plane's URL, known once it listens: pods use it when no --plane-url is given. */
  readonly planeUrl: () => string;
  /** Where registry credentials are read from (the user's Docker config). */
  readonly env: EnvSnapshot;
  readonly adminToken?: string;
}

const PULL_SECRET = 'berth-registry';
const TOKEN_SECRET = 'berth-admin-token';

export async function composeKubeTarget(p: KubeTargetParts): Promise<KubernetesTarget> {
  const k = p.settings.kubernetes;
  if (k === undefined) throw new Error('the kubernetes target needs its settings');
  const ensureImage = p.ensureImage;
  if (ensureImage === undefined || p.settings.registry === undefined) {
    throw new BerthError('INVALID_SETTINGS', { field: '--registry', detail: 'the kubernetes target runs images the cluster pulls from a registry: give berth up --registry HOST:PORT' });
  }
  const api = new KubeApi(loadKubeConfig({ ...(k.kubeconfig === undefined ? {} : { kubeconfig: k.kubeconfig }), ...(k.context === undefined ? {} : { context: k.context }), namespace: k.namespace, inCluster: k.inCluster }), k.namespace);
  await api.check();
  const label = homeLabel(p.settings.home);
  const labels = { [KUBE_LABELS.managed]: 'berth', [KUBE_LABELS.home]: label };
  // Registry credentials from the user's Docker config become the image pull secret pods use.
  const host = parseRegistry(p.settings.registry).host;
  const credentials = dockerCredentials(p.env, host);
  if (credentials !== undefined) {
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    const config = { auths: { [host]: { username: credentials.username, password: credentials.password, auth } } };
    await api.applySecret({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name: PULL_SECRET, namespace: k.namespace, labels }, data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') } });
  }
  // Model downloads are admin API calls: with a token required, pods read it from a secret.
  if (p.adminToken !== undefined) {
    await api.applySecret({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: TOKEN_SECRET, namespace: k.namespace, labels }, data: { token: Buffer.from(p.adminToken).toString('base64') } });
  }
  // Bound once the target exists: the tracker reports pods before and after it.
  let target: KubernetesTarget | undefined;
  const tracker = new PodTracker({
    api, homeLabel: label, logDir: p.logDir, now: p.now,
    onReplicaEvent: p.onEvent,
    onClusterEvent: (e) => {
      try {
        p.events.add(e.service, { type: e.reason, replica: e.pod, message: e.message, data: { source: 'kubernetes', severity: e.type } });
      } catch (err) {
        p.logger.warn({ err }, 'could not record a cluster event');
      }
    },
    onPod: (c) => {
      // The store's replica rows follow the cluster's pods, so views, logs and updates see them as they see local replicas.
      if (c.kind === 'added' && !p.store.replicas(c.service).some((r) => r.id === c.pod)) p.store.addReplica({ id: c.pod, service: c.service, generation: c.generation, index: c.index });
      // A pod berth gave up on keeps its row (and shows as Failed) until its generation goes.
      if (c.kind === 'removed' && target?.failed.has(c.pod) !== true) p.store.removeReplica(c.pod);
    },
  });
  p.logger.info({ server: api.server, namespace: k.namespace }, 'kubernetes target ready');
  target = new KubernetesTarget({
    api, tracker, store: p.store, events: p.events, homeLabel: label,
    get planeUrl() { return k.planeUrl ?? p.planeUrl(); },
    replicaKey: (scope) => p.replicaKeys.keyFor(scope),
    scheduleTimeoutMs: p.settings.scheduleTimeoutMs, maxRequestSizeMb: p.settings.maxRequestSizeMb, now: p.now,
    ensureImage, drain: p.drain,
    warn: (err, what) => p.logger.warn({ err }, what),
    ...(credentials === undefined ? {} : { imagePullSecret: PULL_SECRET }),
    ...(p.adminToken === undefined ? {} : { adminTokenSecret: TOKEN_SECRET }),
  });
  return target;
}
