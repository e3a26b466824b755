// Events as the cluster's components record them. The kubelet and the controllers use the legacy recorder (core/v1 shape:
// source, firstTimestamp/lastTimestamp, count, identical events counted on one object); the scheduler uses the
// events.k8s.io/v1 recorder (eventTime, reportingController, series; firstTimestamp/lastTimestamp null in core/v1).
// Each event is stored in both API versions, as the real server serves one resource in both.
import { EVENTS, NEW_EVENTS } from './resources.js';
import type { Store } from './store.js';
import { microNow, now, type KObject } from './types.js';

export interface EventInput {
  readonly regarding: KObject;
  /** `spec.containers{serve}` for container events. */
  readonly fieldPath?: string;
  readonly reason: string;
  readonly message: string;
  readonly type: 'Normal' | 'Warning';
  /** kubelet, default-scheduler, deployment-controller, replicaset-controller, ... */
  readonly component: string;
  /** The node name for the kubelet; the instance for the scheduler. */
  readonly host?: string;
  /** events.k8s.io recorder (scheduler) rather than the legacy one. */
  readonly modern?: boolean;
  readonly action?: string;
}

const eventName = (name: string): string => `${name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;

function involved(e: EventInput): Record<string, unknown> {
  const m = e.regarding.metadata;
  return {
    kind: e.regarding.kind, namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: e.regarding.apiVersion,
    resourceVersion: m.resourceVersion, ...(e.fieldPath === undefined ? {} : { fieldPath: e.fieldPath }),
  };
}

export class EventRecorder {
  constructor(private readonly store: Store) {}

  record(e: EventInput): void {
    const ns = e.regarding.metadata.namespace ?? 'default';
    const ref = involved(e);
    const same = this.store.list(EVENTS, ns).find((x) => x.involvedObject?.uid === ref.uid && x.reason === e.reason && x.message === e.message
      && x.type === e.type && (x.reportingComponent ?? x.source?.component) === e.component && (x.involvedObject?.fieldPath ?? '') === (e.fieldPath ?? ''));
    if (same !== undefined) {
      const t = now();
      const core: KObject = e.modern === true
        ? { ...same, series: { count: (same.series?.count ?? 1) + 1, lastObservedTime: microNow() } }
        : { ...same, count: (same.count ?? 1) + 1, lastTimestamp: t };
      this.store.update(EVENTS, core);
      const other = this.store.get(NEW_EVENTS, ns, same.metadata.name ?? '');
      if (other !== undefined) this.store.update(NEW_EVENTS, e.modern === true ? { ...other, series: core.series } : { ...other, deprecatedCount: core.count, deprecatedLastTimestamp: t });
      return;
    }
    const name = eventName(String(e.regarding.metadata.name));
    const t = now();
    const instance = e.host ?? e.component;
    if (e.modern === true) {
      const eventTime = microNow();
      this.store.create(EVENTS, {
        apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns }, involvedObject: ref, reason: e.reason, message: e.message,
        source: {}, firstTimestamp: null, lastTimestamp: null, type: e.type, eventTime, action: e.action ?? e.reason, reportingComponent: e.component, reportingInstance: instance,
      });
      this.store.create(NEW_EVENTS, {
        apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name, namespace: ns }, eventTime, reportingController: e.component, reportingInstance: instance,
        action: e.action ?? e.reason, reason: e.reason, regarding: ref, note: e.message, type: e.type,
      });
      return;
    }
    const source = { component: e.component, ...(e.host === undefined ? {} : { host: e.host }) };
    this.store.create(EVENTS, {
      apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns }, involvedObject: ref, reason: e.reason, message: e.message, source,
      firstTimestamp: t, lastTimestamp: t, count: 1, type: e.type, eventTime: null, reportingComponent: e.component, reportingInstance: e.host ?? '',
    });
    this.store.create(NEW_EVENTS, {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name, namespace: ns }, eventTime: null, reportingController: e.component, reportingInstance: e.host ?? '',
      reason: e.reason, regarding: ref, note: e.message, type: e.type, deprecatedSource: source, deprecatedFirstTimestamp: t, deprecatedLastTimestamp: t, deprecatedCount: 1,
    });
  }
}
