// The kubelet's container runtime calls on the Docker engine: image presence and pulls (with pull-secret credentials),
// container logs (demultiplexed), and finding the stand-in's own containers to remove them.
import type Docker from 'dockerode';
import type { Json } from '../types.js';

export const LABEL = 'berth.kube-standin';

export async function hasImage(docker: Docker, ref: string): Promise<{ id: string; size: number } | undefined> {
  try {
    const info = (await docker.getImage(ref).inspect()) as { Id: string; Size: number };
    return { id: info.Id, size: info.Size };
  } catch {
    return undefined;
  }
}

/** Pulls `ref`; rejects with the engine's (registry's) error message. */
export async function pull(docker: Docker, ref: string, auth: Json | undefined): Promise<void> {
  const stream = (await docker.pull(ref, auth === undefined ? {} : { authconfig: auth })) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
      const failed = out?.find((o) => o.error !== undefined);
      if (err !== null) reject(err);
      else if (failed !== undefined) reject(new Error(failed.error));
      else resolve();
    });
  });
}

/** Registry credentials for `ref` from kubernetes.io/dockerconfigjson secrets. */
export function authFor(ref: string, secrets: readonly Json[]): Json | undefined {
  const host = ref.includes('/') && /[.:]|^localhost/.test(ref.split('/')[0] as string) ? (ref.split('/')[0] as string) : 'docker.io';
  for (const s of secrets) {
    const raw = s?.data?.['.dockerconfigjson'];
    if (raw === undefined) continue;
    const auths = (JSON.parse(Buffer.from(raw, 'base64').toString()) as { auths?: Record<string, { username?: string; password?: string; auth?: string }> }).auths ?? {};
    const a = auths[host] ?? auths[`https://${host}`] ?? auths[`http://${host}`];
    if (a === undefined) continue;
    const [username, password] = a.username !== undefined ? [a.username, a.password] : Buffer.from(a.auth ?? '', 'base64').toString().split(':');
    return { username, password, serveraddress: host };
  }
  return undefined;
}

/** Splits Docker's multiplexed log format (8-byte frame headers) into text. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2 || buf[i] === 0) && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  if (i === 0) return buf.toString('utf8');
  return Buffer.concat(out).toString('utf8');
}

/** A container's whole log, each line prefixed with its RFC 3339 timestamp. */
export async function containerLog(docker: Docker, id: string): Promise<string> {
  try {
    const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, timestamps: true, follow: false })) as unknown as Buffer;
    return demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  } catch {
    return '';
  }
}

export async function removeContainer(docker: Docker, id: string, graceSeconds: number): Promise<void> {
  const c = docker.getContainer(id);
  await c.stop({ t: graceSeconds }).catch(() => undefined);
  await c.remove({ force: true }).catch(() => undefined);
}

/** Removes every container a stand-in instance started. */
export async function removeAll(docker: Docker, instance: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL}=${instance}`] }) });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}
