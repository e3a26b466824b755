// The Kubernetes objects of one service generation: its Deployment (pods running the image by digest, models fetched by init containers) and the service's Service.
import { posix } from 'node:path';
import type { V1Deployment, V1Container, V1Service, V1Probe } from '@kubernetes/client-node';
import { serveFlags } from '../local/launch.js';
import { REPLICA_KEY_ENV } from '../../core/replica-key.js';
import { MODEL_NAME_ENV } from '../../inference/oip/model.js';
import type { ContainerImage, ProbeConfig } from '../types.js';

/** The port `berth serve` listens on in every pod. */
export const SERVE_PORT = 5001;
export const SERVE_CONTAINER = 'serve';
const MODELS_VOLUME = 'models';
const MODELS_FOLDER = 'azureml-models';

/** Labels on every object berth makes; the selector of a generation's pods uses service and generation. */
export const KUBE_LABELS = {
  managed: 'app.kubernetes.io/managed-by',
  home: 'berth.dev/home',
  service: 'berth.dev/service',
  generation: 'berth.dev/generation',
} as const;

/** What a generation's objects are made from: the service's settings, its image, its models, and where pods reach the control plane. */
export interface GenerationManifestInput {
  readonly service: string;
  readonly generation: number;
  readonly namespace: string;
  /** Identifies the control plane's home, so two planes sharing a namespace never take each other's pods. */
  readonly homeLabel: string;
  readonly replicas: number;
  readonly image: ContainerImage;
  /** The entry script's path inside the source snapshot. */
  readonly entryScript: string;
  readonly models: ReadonlyArray<{ readonly name: string; readonly version: number }>;
  /** The control plane's URL as pods see it (their init containers download models from it). */
  readonly planeUrl: string;
  /** A Secret holding BERTH_ADMIN_TOKEN, when the plane requires one (model downloads are admin API calls). */
  readonly adminTokenSecret?: string;
  /** The key every pod of the generation asks of the gateway on /score. */
  readonly replicaKey: string;
  readonly imagePullSecret?: string;
  readonly cpu: number;
  readonly cpuLimit?: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes?: number;
  readonly gpus: number;
  readonly scoringTimeoutMs: number;
  readonly maxConcurrentRequests: number;
  readonly maxQueueWaitMs: number;
  readonly maxRequestSizeMb: number;
  readonly liveness: ProbeConfig;
  /** init()'s budget: the startup probe lets a pod take this long before liveness counts. */
  readonly initTimeoutS: number;
  /** The warm-up request body, run once after init(). */
  readonly warmup?: string;
}

export function deploymentName(service: string, generation: number): string {
  return `${service}-g${generation}`;
}

export function generationLabels(i: Pick<GenerationManifestInput, 'service' | 'generation' | 'homeLabel'>): Record<string, string> {
  return { [KUBE_LABELS.managed]: 'berth', [KUBE_LABELS.home]: i.homeLabel, [KUBE_LABELS.service]: i.service, [KUBE_LABELS.generation]: String(i.generation) };
}

/** Kubernetes quantities: CPU in millicores, memory in bytes (exact, no rounding surprises). */
const cpuQuantity = (cores: number): string => `${Math.max(1, Math.round(cores * 1000))}m`;
const memQuantity = (bytes: number): string => String(Math.round(bytes));

function modelDir(i: GenerationManifestInput): string | undefined {
  const root = posix.join(i.image.appRoot, MODELS_FOLDER);
  if (i.models.length === 0) return undefined;
  // The classic layouts: one model's version folder, or the folder of all of them.
  return i.models.length === 1 ? posix.join(root, i.models[0]!.name, String(i.models[0]!.version)) : root;
}

function fetchModel(i: GenerationManifestInput, m: { name: string; version: number }, n: number): V1Container {
  const to = posix.join(i.image.appRoot, MODELS_FOLDER, m.name, String(m.version));
  return {
    name: `model-${n}`,
    image: i.image.ref,
    command: [i.image.node, i.image.berthBin, 'model', 'download', `${m.name}:${m.version}`, '--to', to, '--server', i.planeUrl],
    ...(i.adminTokenSecret === undefined ? {} : { env: [{ name: 'BERTH_ADMIN_TOKEN', valueFrom: { secretKeyRef: { name: i.adminTokenSecret, key: 'token' } } }] }),
    volumeMounts: [{ name: MODELS_VOLUME, mountPath: posix.join(i.image.appRoot, MODELS_FOLDER) }],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function probe(path: string, p: ProbeConfig, extra: Partial<V1Probe> = {}): V1Probe {
  return {
    httpGet: { path, port: SERVE_PORT },
    periodSeconds: Math.max(1, Math.round(p.periodS)),
    timeoutSeconds: Math.max(1, Math.round(p.timeoutS)),
    failureThreshold: p.failureThreshold,
    successThreshold: 1,
    ...extra,
  };
}

export function generationDeployment(i: GenerationManifestInput): V1Deployment {
  const labels = generationLabels(i);
  const dir = modelDir(i);
  const entryScript = posix.isAbsolute(i.entryScript) ? i.entryScript : posix.join(i.image.appRoot, i.entryScript);
  const args = serveFlags(
    { scoringTimeoutMs: i.scoringTimeoutMs, maxConcurrentRequests: i.maxConcurrentRequests, maxQueueWaitMs: i.maxQueueWaitMs, initTimeoutS: i.initTimeoutS },
    { entryScript, host: '0.0.0.0', port: SERVE_PORT, python: i.image.python, maxRequestSizeMb: i.maxRequestSizeMb, ...(dir === undefined ? {} : { modelDir: dir }) },
  );
  const limits: Record<string, string> = { memory: memQuantity(i.memoryLimitBytes ?? i.memoryBytes) };
  if (i.cpuLimit !== undefined) limits.cpu = cpuQuantity(i.cpuLimit);
  if (i.gpus > 0) limits['nvidia.com/gpu'] = String(Math.ceil(i.gpus));
  const requests: Record<string, string> = { cpu: cpuQuantity(i.cpu), memory: memQuantity(i.memoryBytes) };
  if (i.gpus > 0) requests['nvidia.com/gpu'] = String(Math.ceil(i.gpus));
  const env = [...Object.entries(i.image.env).map(([name, value]) => ({ name, value })), { name: REPLICA_KEY_ENV, value: i.replicaKey },
    // The service name is the model name of the Open Inference Protocol routes behind the gateway.
    { name: MODEL_NAME_ENV, value: i.service },
    ...(i.warmup === undefined ? [] : [{ name: 'BERTH_WARMUP_REQUEST', value: i.warmup }])];
  const period = Math.max(1, Math.round(i.liveness.periodS));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deploymentName(i.service, i.generation), namespace: i.namespace, labels },
    spec: {
      replicas: i.replicas,
      selector: { matchLabels: { [KUBE_LABELS.service]: i.service, [KUBE_LABELS.generation]: String(i.generation) } },
      template: {
        metadata: { labels },
        spec: {
          ...(i.imagePullSecret === undefined ? {} : { imagePullSecrets: [{ name: i.imagePullSecret }] }),
          initContainers: i.models.map((m, n) => fetchModel(i, m, n)),
          containers: [{
            name: SERVE_CONTAINER,
            image: i.image.ref,
            command: [i.image.node, i.image.berthBin],
            args,
            workingDir: i.image.appRoot,
            env,
            ports: [{ name: 'http', containerPort: SERVE_PORT }],
            resources: { requests, limits },
            ...(dir === undefined ? {} : { volumeMounts: [{ name: MODELS_VOLUME, mountPath: posix.join(i.image.appRoot, MODELS_FOLDER), readOnly: true }] }),
            // init() gets its own budget; liveness starts counting once the server answers.
            startupProbe: probe('/', i.liveness, { periodSeconds: period, failureThreshold: Math.max(1, Math.ceil(i.initTimeoutS / period)) }),
            livenessProbe: probe('/', i.liveness),
            readinessProbe: probe('/ready', { ...i.liveness, periodS: 1, failureThreshold: 1 }),
            // An init() failure reaches the pod status: the tail of the log when no message was written.
            terminationMessagePolicy: 'FallbackToLogsOnError',
          }],
          volumes: [{ name: MODELS_VOLUME, emptyDir: {} }],
          // serve drains in-flight requests on SIGTERM for up to 30 s.
          terminationGracePeriodSeconds: 35,
        },
      },
    },
  };
}

/** One Service per service, over the pods of every generation (the gateway itself routes to pods; this is for in-cluster clients). */
export function serviceObject(i: Pick<GenerationManifestInput, 'service' | 'namespace' | 'homeLabel'>): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: i.service, namespace: i.namespace, labels: { [KUBE_LABELS.managed]: 'berth', [KUBE_LABELS.home]: i.homeLabel, [KUBE_LABELS.service]: i.service } },
    spec: { selector: { [KUBE_LABELS.service]: i.service }, ports: [{ name: 'http', port: SERVE_PORT, targetPort: SERVE_PORT }] },
  };
}
