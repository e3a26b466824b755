// `berth k8s install | render`: the manifests to run the control plane in a cluster, and a service's own manifests for GitOps.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { installManifests } from '../../targets/kubernetes/install.js';
import { ApiClient, parseClientSettings } from '../api-client.js';
import type { CliContext } from '../context.js';

/** Objects as one multi-document YAML stream, as kubectl apply -f - takes them. */
function yamlStream(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

export function registerK8sCommands(program: Command, ctx: CliContext): void {
  const k8s = program.command('k8s').description('Kubernetes: manifests to run berth in a cluster, and a service\'s manifests');
  k8s.command('install')
    .description('Print the manifests that run the control plane in a cluster (namespace, account, Role, volume, Deployment, Service); pipe them to kubectl apply -f -')
    .requiredOption('--image <ref>', 'an image with Node.js and berth (berth image build prints its runtime layer)')
    .requiredOption('--registry <host:port>', 'the registry service images go to and the cluster pulls from')
    .option('--namespace <name>', 'namespace to install into', 'berth')
    .option('--storage <size>', 'size of the control plane\'s volume', '10Gi')
    .option('--docker-host <url>', 'a Docker engine the control plane builds images with (DOCKER_HOST)')
    .action((opts: { image: string; registry: string; namespace: string; storage: string; dockerHost?: string }) => {
      ctx.out(yamlStream(installManifests({ namespace: opts.namespace, image: opts.image, registry: opts.registry, storage: opts.storage, ...(opts.dockerHost === undefined ? {} : { dockerHost: opts.dockerHost }) })).trimEnd());
    });
  k8s.command('render')
    .description('Print a service\'s manifests as the Kubernetes target applies them (its running generation, image by digest)')
    .argument('<service>')
    .option('--server <url>', 'control plane URL')
    .action(async (service: string, opts: { server?: string }) => {
      const client = new ApiClient(parseClientSettings(opts, ctx.env));
      const objects = await client.call<unknown[]>('GET', `/v1/services/${encodeURIComponent(service)}/manifests`);
      ctx.out(yamlStream(objects).trimEnd());
    });
}
