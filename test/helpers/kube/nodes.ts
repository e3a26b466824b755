// Node objects for the simulated cluster's configured nodes (allocatable, capacity, Ready), all backed by the one Docker engine.
import type { NodeSpec } from './context.js';
import { canonicalMap } from './quantity.js';
import { NODES } from './resources.js';
import type { Store } from './store.js';
import { now } from './types.js';

export const DEFAULT_NODES: readonly NodeSpec[] = [{ name: 'node-1', allocatable: { cpu: '4', memory: '8Gi', pods: '110' } }];

export function createNodes(store: Store, nodes: readonly NodeSpec[]): void {
  for (const n of nodes) {
    const allocatable = canonicalMap({ pods: '110', ...n.allocatable });
    store.create(NODES, {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...(n.labels ?? {}) } },
      spec: {},
      status: {
        capacity: allocatable, allocatable,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }],
        nodeInfo: { kubeletVersion: 'v1.30.0', containerRuntimeVersion: 'docker://stand-in', operatingSystem: 'linux', architecture: 'amd64' },
      },
    });
  }
}
