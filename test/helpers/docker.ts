// For tests that need the Docker engine (and the local registry): skip cleanly without them, unless BERTH_TEST_DOCKER=1
// says they must be there (CI), in which case the tests run and fail. Also: the base image, unique names, clean-up.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { DockerConnection, type Docker } from '../../src/images/docker.js';
import { BASE_IMAGE, makeBaseImage } from '../../src/images/base-image.js';
import { inspectImage } from '../../src/images/engine.js';
import { MANIFEST_ACCEPT } from '../../src/images/registry.js';

/** CI sets BERTH_TEST_DOCKER=1: then a missing engine or registry is a failure, not a skip. */
export const dockerRequired = process.env.BERTH_TEST_DOCKER === '1';

/** The registry the tests push to (plain HTTP on loopback). */
export const TEST_REGISTRY = process.env.BERTH_TEST_REGISTRY ?? '127.0.0.1:5000';

export const connection = new DockerConnection({ ...process.env });

/** One probe per test process. */
let probed: Promise<string | undefined> | undefined;

/** Why Docker tests cannot run (undefined: they can). */
function whyNot(): Promise<string | undefined> {
  probed ??= (async () => {
    try {
      await connection.get();
    } catch (err) {
      return `no Docker engine: ${(err as Error).message.split('\n')[0]}`;
    }
    try {
      const res = await request(`http://${TEST_REGISTRY}/v2/`, { method: 'GET', headersTimeout: 3000, bodyTimeout: 3000 });
      await res.body.dump();
      if (res.statusCode !== 200) return `the registry at ${TEST_REGISTRY} answered HTTP ${res.statusCode}`;
    } catch (err) {
      return `no registry at ${TEST_REGISTRY}: ${(err as Error).message}`;
    }
    return undefined;
  })();
  return probed;
}

/**
 * The `skip` option for Docker tests: a reason when Docker (or the registry) is missing and not required, else false
 * (when required and missing, the tests run and fail with DOCKER_UNAVAILABLE / REGISTRY_UNREACHABLE).
 */
export async function dockerSkip(): Promise<string | false> {
  const reason = await whyNot();
  if (reason === undefined || dockerRequired) return false;
  return `${reason} (set BERTH_TEST_DOCKER=1 to make this a failure)`;
}

export async function docker(): Promise<Docker> {
  return connection.get();
}

/**
 * berth/base:bookworm, made once if missing (CI makes it before the tests with `berth image base`). A lock file in the
 * temp folder keeps test files running side by side from each running debootstrap.
 */
export async function ensureBaseImage(): Promise<string> {
  if ((await inspectImage(connection, BASE_IMAGE)) !== undefined) return BASE_IMAGE;
  const home = join(tmpdir(), 'berth-test-base-image');
  await makeBaseImage(connection, home, { force: false, env: { ...process.env }, signal: AbortSignal.timeout(15 * 60_000) });
  return BASE_IMAGE;
}

/** A registry namespace no other test run uses. */
export function uniqueNamespace(): string {
  return `berth-test-${randomBytes(4).toString('hex')}`;
}

/** Runs `cmd` in the image to its end (no network); resolves with its exit code and output. */
export async function runInImage(image: string, cmd: readonly string[], env: readonly string[] = []): Promise<{ code: number; output: string }> {
  const d = await docker();
  const container = await d.createContainer({ Image: image, Cmd: [...cmd], Env: [...env], Tty: true, Labels: { 'berth.test': '1' }, HostConfig: { NetworkMode: 'none' } });
  try {
    await container.start();
    const waited = (await container.wait()) as { StatusCode: number };
    const raw: unknown = await container.logs({ stdout: true, stderr: true });
    const output = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : JSON.stringify(raw);
    return { code: waited.StatusCode, output: output.replace(/\r\n/g, '\n') };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Removes local tags starting with `prefix` (the images go with their last tag), and containers labelled berth.test. */
export async function removeLocalImages(prefix: string): Promise<void> {
  const d = await docker();
  for (const c of await d.listContainers({ all: true, filters: JSON.stringify({ label: ['berth.test=1'] }) })) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const image of await d.listImages()) {
    for (const tag of image.RepoTags ?? []) if (tag.startsWith(prefix)) await d.getImage(tag).remove().catch(() => undefined);
  }
}

/** Deletes every manifest of the repositories under `namespace` from the test registry (it runs with delete enabled). */
export async function removeRegistryNamespace(namespace: string): Promise<void> {
  const base = `http://${TEST_REGISTRY}/v2`;
  const catalog = (await (await request(`${base}/_catalog?n=1000`)).body.json()) as { repositories?: string[] };
  for (const repo of (catalog.repositories ?? []).filter((r) => r.startsWith(`${namespace}/`))) {
    const tags = (await (await request(`${base}/${repo}/tags/list`)).body.json()) as { tags?: string[] | null };
    for (const tag of tags.tags ?? []) {
      const head = await request(`${base}/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
      await head.body.dump();
      const digest = head.headers['docker-content-digest'];
      if (typeof digest === 'string') await (await request(`${base}/${repo}/manifests/${digest}`, { method: 'DELETE' })).body.dump();
    }
  }
}
