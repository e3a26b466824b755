// One probe attempt as the kubelet's prober makes it (httpGet, tcpSocket, exec), with its failure text in the kubelet's words.
import { request } from 'node:http';
import { connect } from 'node:net';
import type Docker from 'dockerode';
import type { Json } from '../types.js';

export type ProbeResult = { ok: true } | { ok: false; output: string };

function port(p: Json, container: Json): number {
  if (typeof p === 'number') return p;
  const named = (container.ports ?? []).find((x: Json) => x.name === p);
  return named?.containerPort ?? Number(p);
}

function httpProbe(ip: string, probe: Json, container: Json): Promise<ProbeResult> {
  const g = probe.httpGet;
  const p = port(g.port, container);
  const path = g.path ?? '/';
  const url = `${(g.scheme ?? 'HTTP').toLowerCase()}://${ip}:${p}${path}`;
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.30', accept: '*/*' };
    for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
    const req = request({ host: ip, port: p, path, method: 'GET', headers, timeout: timeoutMs }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400 ? { ok: true } : { ok: false, output: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.code === 'ECONNRESET' ? 'read: connection reset by peer' : err.message;
      resolve({ ok: false, output: `Get "${url}": dial tcp ${ip}:${p}: ${why}` });
    });
    req.end();
  });
}

function tcpProbe(ip: string, probe: Json, container: Json): Promise<ProbeResult> {
  const p = port(probe.tcpSocket.port, container);
  return new Promise((resolve) => {
    const s = connect({ host: ip, port: p, timeout: (probe.timeoutSeconds ?? 1) * 1000 });
    s.on('connect', () => {
      s.destroy();
      resolve({ ok: true });
    });
    s.on('timeout', () => {
      s.destroy();
      resolve({ ok: false, output: `dial tcp ${ip}:${p}: i/o timeout` });
    });
    s.on('error', () => resolve({ ok: false, output: `dial tcp ${ip}:${p}: connect: connection refused` }));
  });
}

async function execProbe(docker: Docker, containerId: string, probe: Json): Promise<ProbeResult> {
  try {
    const exec = await docker.getContainer(containerId).exec({ Cmd: probe.exec.command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', resolve);
      setTimeout(resolve, (probe.timeoutSeconds ?? 1) * 1000);
    });
    const info = await exec.inspect();
    return info.ExitCode === 0 ? { ok: true } : { ok: false, output: Buffer.concat(chunks).toString('utf8').replace(/[\x00-\x08]/g, '') };
  } catch (err) {
    return { ok: false, output: (err as Error).message };
  }
}

export function runProbe(docker: Docker, ip: string, containerId: string, probe: Json, container: Json): Promise<ProbeResult> {
  if (probe.httpGet !== undefined) return httpProbe(ip, probe, container);
  if (probe.tcpSocket !== undefined) return tcpProbe(ip, probe, container);
  if (probe.exec !== undefined) return execProbe(docker, containerId, probe);
  return Promise.resolve({ ok: true });
}
