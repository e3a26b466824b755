// The manifests that run berth's control plane itself in a cluster: its account and the Role it needs (nothing more), a volume for its store, the Deployment and its Service.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface InstallOptions {
  readonly namespace: string;
  /** An image with Node.js and berth in it: berth's own runtime layer (berth image build prints it) or one of yours. */
  readonly image: string;
  /** The registry the cluster pulls service images from (and berth pushes to). */
  readonly registry: string;
  /** Size of the volume holding the store (models, services, logs). */
  readonly storage: string;
  /** A Docker engine the control plane builds images with (DOCKER_HOST), when not the default socket. */
  readonly dockerHost?: string;
}

const NAME = 'berth';
const PORT = 7070;
const HOME = '/var/lib/berth';

export function installManifests(o: InstallOptions): KubernetesObject[] {
  const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/managed-by': 'berth' };
  const meta = (name: string): { name: string; namespace: string; labels: Record<string, string> } => ({ name, namespace: o.namespace, labels });
  const planeUrl = `http://${NAME}.${o.namespace}.svc:${PORT}`;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace, labels } } as KubernetesObject,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(NAME) } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(NAME),
      // Exactly what the Kubernetes target calls: apply and scale Deployments, apply Services and Secrets, watch pods and their events, read pod logs.
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
        { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch', 'update'] },
        { apiGroups: [''], resources: ['services', 'secrets'], verbs: ['get', 'list', 'create', 'patch', 'update', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta(NAME),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: o.namespace }],
    } as KubernetesObject,
    {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(`${NAME}-home`),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: o.storage } } },
    } as KubernetesObject,
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(NAME),
      spec: {
        // One control plane per home: its run file is the lock, and the volume is ReadWriteOnce.
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { 'app.kubernetes.io/name': NAME } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            containers: [{
              name: 'control-plane',
              image: o.image,
              command: ['node', '/opt/berth/bin/berth.js', 'up', '--host', '0.0.0.0', '--port', String(PORT), '--home', HOME,
                '--target', 'kubernetes', '--namespace', o.namespace, '--registry', o.registry, '--plane-url', planeUrl,
                '--admin-token-file', '/etc/berth/admin-token/token'],
              env: o.dockerHost === undefined ? [] : [{ name: 'DOCKER_HOST', value: o.dockerHost }],
              ports: [{ name: 'http', containerPort: PORT }],
              readinessProbe: { httpGet: { path: '/openapi.json', port: PORT }, periodSeconds: 5 },
              volumeMounts: [{ name: 'home', mountPath: HOME }, { name: 'admin-token', mountPath: '/etc/berth/admin-token', readOnly: true }],
            }],
            volumes: [
              { name: 'home', persistentVolumeClaim: { claimName: `${NAME}-home` } },
              // Off loopback the admin API needs a token: create it once (kubectl create secret generic berth-admin-token --from-literal=token=...).
              { name: 'admin-token', secret: { secretName: `${NAME}-admin-token` } },
            ],
          },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: 'v1', kind: 'Service', metadata: meta(NAME),
      spec: { selector: { 'app.kubernetes.io/name': NAME }, ports: [{ name: 'http', port: PORT, targetPort: PORT }] },
    } as KubernetesObject,
  ];
}
