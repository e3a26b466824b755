// The stand-in's TLS and kubeconfig: a throw-away certificate for 127.0.0.1 made with openssl (its own CA in the
// kubeconfig, as a real cluster's), or plain HTTP with insecure-skip-tls-verify when openssl is missing; one user with
// the bearer token; one context with the namespace.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface Tls {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** A self-signed certificate for IP 127.0.0.1, or undefined without openssl. */
export function makeTls(dir: string): Tls | undefined {
  const key = join(dir, 'apiserver.key');
  const cert = join(dir, 'apiserver.crt');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', '/CN=kube-apiserver-stand-in', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { cert: readFileSync(cert), key: readFileSync(key) };
  } catch {
    return undefined;
  }
}

export function writeKubeconfig(path: string, server: string, token: string, namespace: string, ca: Buffer | undefined): void {
  const cluster = ca === undefined ? { server, 'insecure-skip-tls-verify': true } : { server, 'certificate-authority-data': ca.toString('base64') };
  const config = {
    apiVersion: 'v1', kind: 'Config', preferences: {},
    clusters: [{ name: 'stand-in', cluster }],
    users: [{ name: 'berth', user: { token } }],
    contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'berth', namespace } }],
    'current-context': 'stand-in',
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
