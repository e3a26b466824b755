// The list of CLI commands; each module adds its subcommands to the program, and is loaded only when needed.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/**
 * Each top-level command with the module(s) that register it, in the order help lists them. Loaded on demand: a
 * command's implementation pulls in much of berth (the control plane, the inference server, HTTP clients), and a
 * replica's `berth serve` or a `berth deploy` should not wait for the rest to load.
 */
export const commandLoaders: ReadonlyArray<readonly [name: string, load: () => Promise<readonly RegisterCommand[]>]> = [
  ['quickstart', async () => [(await import('./quickstart.js')).registerQuickstart]],
  ['serve', async () => [(await import('./serve.js')).registerServe]],
  ['up', async () => [(await import('./up.js')).registerUp]],
  ['down', async () => [(await import('./down.js')).registerDown]],
  ['status', async () => [(await import('./status.js')).registerStatus]],
  ['model', async () => [(await import('./model.js')).registerModelCommands]],
  ['deploy', async () => [(await import('./deploy.js')).registerDeploy]],
  ['service', async () => [(await import('./service.js')).registerServiceCommands, (await import('./service-debug.js')).registerServiceDebug, (await import('./service-requests.js')).registerServiceRequests]],
  ['operation', async () => [(await import('./operation.js')).registerOperationCommands]],
  ['replicas', async () => [(await import('./replicas.js')).registerReplicas]],
  ['env', async () => [(await import('./env.js')).registerEnvCommands]],
  ['image', async () => [(await import('./image.js')).registerImageCommands]],
  ['diagnose', async () => [(await import('./diagnose.js')).registerDiagnose]],
  ['k8s', async () => [(await import('./k8s.js')).registerK8sCommands]],
];

/** The commands to register for `argv`: only the one it names, else all (help, --version, a mistyped name). */
export async function commandsFor(argv: readonly string[]): Promise<RegisterCommand[]> {
  const named = commandLoaders.find(([name]) => name === argv[2]);
  const loaders = named === undefined ? commandLoaders : [named];
  return (await Promise.all(loaders.map(([, load]) => load()))).flat();
}
