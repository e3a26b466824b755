// Rules for failures only a cluster has: images its nodes cannot pull, models its pods cannot fetch from the control plane.
import type { DiagnoseInput, Finding } from './types.js';

const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);

const inWindow = (input: DiagnoseInput, time: string): boolean => Date.parse(time) >= input.now.getTime() - input.windowMs;

/** The cluster's own events about pulls (reason Failed with a pull message, or BackOff pulling), and the deploy's error. */
export function imagePullRule(input: DiagnoseInput): Finding[] {
  const pulls = input.events.filter((e) => inWindow(input, e.time) && e.data?.source === 'kubernetes'
    && (PULL_REASONS.has(e.type) || (e.type === 'Failed' && /pull/i.test(e.message)) || (e.type === 'BackOff' && /pulling image/i.test(e.message))));
  const opErr = input.lastOperation?.error;
  const failedOp = opErr?.code === 'KUBERNETES_IMAGE_PULL_FAILED' ? opErr : undefined;
  if (pulls.length === 0 && failedOp === undefined) return [];
  return [{
    severity: 'critical', code: 'KUBERNETES_IMAGE_PULL_FAILED',
    symptom: `pods of ${input.service.name} cannot start: the cluster cannot pull their image`,
    cause: failedOp?.message ?? `the nodes' pulls fail: ${pulls.at(-1)?.message ?? ''}`,
    evidence: [...(failedOp === undefined ? [] : [`operation failed: ${failedOp.message}`]), ...pulls.slice(-3).map((e) => `${e.time} ${e.type} ${e.replica ?? ''}: ${e.message}`)],
    fix: 'Make sure the nodes reach the registry berth pushes to (berth up --registry) and may pull from it; a private registry needs its credentials in your Docker config, which berth turns into an image pull secret.',
  }];
}

export function modelFetchRule(input: DiagnoseInput): Finding[] {
  const opErr = input.lastOperation?.error;
  if (opErr?.code !== 'KUBERNETES_MODEL_FETCH_FAILED') return [];
  return [{
    severity: 'critical', code: 'KUBERNETES_MODEL_FETCH_FAILED',
    symptom: `pods of ${input.service.name} never start serving: their init containers cannot fetch the models`,
    cause: opErr.message,
    evidence: [`operation failed: ${opErr.message}`],
    fix: opErr.fix,
  }];
}
