// The Kubernetes stand-in's API server: server-side apply (create, update, no-op, removal, conflicts), 409 on stale
// updates, 422 and 500 for what a real server refuses, 401, 404 wording, label selectors, scale, deletion.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startKubeStandIn, type KubeStandIn } from '../helpers/kube/index.js';
import { applyOptions, clients, deployment, failure, mergeOptions } from '../helpers/kube/client.js';

let kube: KubeStandIn;
let c: ReturnType<typeof clients>;
const ns = 'berth';
const tls = (): Agent => new Agent({ connect: { ca: kube.ca } });

before(async () => {
  kube = await startKubeStandIn({ namespace: ns, kubelet: false });
  c = clients(kube);
});
after(async () => kube.close());

const apply = (body: object, name: string, force = true): Promise<{ metadata?: { resourceVersion?: string; generation?: number; managedFields?: { manager: string; operation: string }[] }; spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string; env?: unknown[] }[] } } } }> =>
  c.apps.patchNamespacedDeployment({ name, namespace: ns, body, fieldManager: 'berth', force }, applyOptions) as never;

describe('server-side apply', () => {
  it('creates, updates, is a no-op for the same configuration, and removes what the manager stopped applying', async () => {
    const withEnv = deployment('ssa', { replicas: 0, container: { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], resources: { limits: { cpu: '0.5', memory: '1024Mi' } } } });
    const created = await apply(withEnv, 'ssa');
    assert.equal(created.metadata?.generation, 1);
    assert.deepEqual(created.metadata?.managedFields?.map((m) => [m.manager, m.operation]), [['berth', 'Apply']]);
    const fetched = await c.apps.readNamespacedDeployment({ name: 'ssa', namespace: ns });
    assert.equal(fetched.spec?.strategy?.type, 'RollingUpdate', 'defaults are filled in');
    assert.deepEqual(fetched.spec?.template.spec?.containers[0]?.resources?.limits, { cpu: '500m', memory: '1Gi' }, 'quantities are canonical');
    await new Promise((r) => setTimeout(r, 200)); // the deployment controller writes its status once
    const before = await c.apps.readNamespacedDeployment({ name: 'ssa', namespace: ns });
    const same = await apply(withEnv, 'ssa');
    assert.equal(same.metadata?.resourceVersion, before.metadata?.resourceVersion, 'no change, no new resourceVersion');
    const fewer = deployment('ssa', { replicas: 0, container: { env: [{ name: 'A', value: '1' }], resources: { limits: { cpu: '500m', memory: '1Gi' } } } });
    const updated = await apply(fewer, 'ssa');
    assert.notEqual(updated.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(updated.metadata?.generation, 2);
    assert.deepEqual(JSON.parse(JSON.stringify(updated.spec?.template?.spec?.containers?.[0]?.env)), [{ name: 'A', value: '1' }]);
  });

  it('conflicts with another manager without force, takes the field over with force', async () => {
    await apply(deployment('owned', { replicas: 1 }), 'owned');
    await c.apps.patchNamespacedDeploymentScale({ name: 'owned', namespace: ns, body: { spec: { replicas: 3 } }, fieldManager: 'autoscaler' }, mergeOptions);
    const f = await failure(apply(deployment('owned', { replicas: 1 }), 'owned', false));
    assert.equal(f.code, 409);
    assert.match(f.body.message ?? '', /^Apply failed with 1 conflict: conflict with "autoscaler" with subresource "scale" using apps\/v1 at .*: \.spec\.replicas$/);
    const forced = await apply(deployment('owned', { replicas: 1 }), 'owned');
    assert.equal(forced.spec?.replicas, 1);
  });

  it('answers a field the schema does not declare as a real server does (500, field not declared in schema)', async () => {
    const bad = deployment('typo', { container: { imagee: 'x' } });
    const f = await failure(apply(bad, 'typo'));
    assert.equal(f.code, 500);
    assert.equal(f.body.message, `failed to create typed patch object (${ns}/typo; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="serve"].imagee: field not declared in schema`);
  });

  it('answers an invalid object with 422 and the causes', async () => {
    const bad = deployment('Bad_Name', { labels: { app: 'x'.repeat(64) } });
    const f = await failure(apply(bad, 'Bad_Name'));
    assert.equal(f.code, 422);
    assert.equal(f.body.reason, 'Invalid');
    assert.match(f.body.message ?? '', /^Deployment\.apps "Bad_Name" is invalid: \[metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    assert.ok(f.body.details?.causes?.some((x) => x.field === 'metadata.labels' && /must be no more than 63 characters/.test(x.message ?? '')));
    const noImage = await failure(apply({ ...deployment('noimage'), spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'serve' }] } } } }, 'noimage'));
    assert.equal(noImage.code, 422);
    assert.equal(noImage.body.message, 'Deployment.apps "noimage" is invalid: spec.template.spec.containers[0].image: Required value');
  });

  it('refuses a changed selector as immutable', async () => {
    await apply(deployment('immutable'), 'immutable');
    const f = await failure(apply(deployment('immutable', { labels: { app: 'other' } }), 'immutable'));
    assert.equal(f.code, 422);
    assert.match(f.body.message ?? '', /spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\{"app":"other"\}, MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: field is immutable/);
  });
});

describe('updates and errors', () => {
  it('answers a PUT with a stale resourceVersion with 409 in the real wording', async () => {
    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('stale', { replicas: 0 }) });
    await new Promise((r) => setTimeout(r, 200));
    const d = await c.apps.readNamespacedDeployment({ name: 'stale', namespace: ns });
    const rv = d.metadata?.resourceVersion;
    await c.apps.replaceNamespacedDeployment({ name: 'stale', namespace: ns, body: { ...d, spec: { ...d.spec, replicas: 2 } } as never });
    const f = await failure(c.apps.replaceNamespacedDeployment({ name: 'stale', namespace: ns, body: { ...d, metadata: { ...d.metadata, resourceVersion: rv }, spec: { ...d.spec, replicas: 3 } } as never }));
    assert.equal(f.code, 409);
    assert.equal(f.body.reason, 'Conflict');
    assert.equal(f.body.message, 'Operation cannot be fulfilled on deployments.apps "stale": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('answers a missing object with 404 NotFound', async () => {
    const f = await failure(c.apps.readNamespacedDeployment({ name: 'nope', namespace: ns }));
    assert.equal(f.code, 404);
    assert.equal(f.body.message, 'deployments.apps "nope" not found');
    const p = await failure(c.core.readNamespacedPod({ name: 'nope', namespace: ns }));
    assert.equal(p.body.message, 'pods "nope" not found');
  });

  it('drops undeclared fields with a warning on create, refuses them with fieldValidation=Strict', async () => {
    const res = await request(`${kube.url}/apis/apps/v1/namespaces/${ns}/deployments`, { method: 'POST', dispatcher: tls(), headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json' }, body: JSON.stringify(deployment('warned', { container: { imagee: 'x' } })) });
    assert.equal(res.statusCode, 201);
    assert.match(String(res.headers.warning), /unknown field \\"spec\.template\.spec\.containers\[0\]\.imagee\\"/);
    await res.body.dump();
    const strict = await request(`${kube.url}/apis/apps/v1/namespaces/${ns}/deployments?fieldValidation=Strict`, { method: 'POST', dispatcher: tls(), headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json' }, body: JSON.stringify(deployment('strict', { container: { imagee: 'x' } })) });
    assert.equal(strict.statusCode, 400);
    assert.match(((await strict.body.json()) as { message: string }).message, /strict decoding error: unknown field "spec\.template\.spec\.containers\[0\]\.imagee"/);
  });

  it('answers a wrong token with 401', async () => {
    const res = await request(`${kube.url}/api/v1/namespaces`, { dispatcher: tls(), headers: { authorization: 'Bearer wrong' } });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(await res.body.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it('lists by label selector, equality and set-based', async () => {
    for (const [name, tier] of [['l1', 'a'], ['l2', 'b'], ['l3', 'c']] as const) await apply(deployment(name, { labels: { app: name, tier } }), name);
    const eq = await c.apps.listNamespacedDeployment({ namespace: ns, labelSelector: 'tier=a' });
    assert.deepEqual(eq.items.map((d) => d.metadata?.name), ['l1']);
    const set = await c.apps.listNamespacedDeployment({ namespace: ns, labelSelector: 'tier in (a,c)' });
    assert.deepEqual(set.items.map((d) => d.metadata?.name), ['l1', 'l3']);
  });

  it('reads and writes the scale subresource', async () => {
    await apply(deployment('scaled', { replicas: 1 }), 'scaled');
    const s = await c.apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: ns });
    assert.equal(s.spec?.replicas, 1);
    assert.equal(s.status?.selector, 'app=scaled');
    await c.apps.replaceNamespacedDeploymentScale({ name: 'scaled', namespace: ns, body: { ...s, spec: { replicas: 4 } } });
    assert.equal((await c.apps.readNamespacedDeployment({ name: 'scaled', namespace: ns })).spec?.replicas, 4);
    const f = await failure(c.apps.replaceNamespacedDeploymentScale({ name: 'scaled', namespace: ns, body: { ...s, spec: { replicas: 5 } } }));
    assert.equal(f.code, 409, 'the old resourceVersion is stale');
  });

  it('creates in a missing namespace: 404 for the namespace', async () => {
    const f = await failure(c.apps.createNamespacedDeployment({ namespace: 'missing', body: deployment('x') }));
    assert.equal(f.code, 404);
    assert.equal(f.body.message, 'namespaces "missing" not found');
  });
});
