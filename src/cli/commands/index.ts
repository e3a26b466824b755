// The list of CLI commands; each module adds its subcommands to the program.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerServe } from './serve.js';
import { registerQuickstart } from './quickstart.js';
import { registerUp } from './up.js';
import { registerDown } from './down.js';
import { registerStatus } from './status.js';
import { registerModelCommands } from './model.js';
import { registerDeploy } from './deploy.js';
import { registerServiceCommands } from './service.js';
import { registerOperationCommands } from './operation.js';
import { registerReplicas } from './replicas.js';
import { registerEnvCommands } from './env.js';
import { registerImageCommands } from './image.js';
import { registerDiagnose } from './diagnose.js';
import { registerServiceDebug } from './service-debug.js';
import { registerServiceRequests } from './service-requests.js';
import { registerK8sCommands } from './k8s.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const commands: readonly RegisterCommand[] = [registerQuickstart, registerServe, registerUp, registerDown, registerStatus, registerModelCommands, registerDeploy, registerServiceCommands, registerOperationCommands, registerReplicas, registerEnvCommands, registerImageCommands, registerDiagnose, registerServiceDebug, registerServiceRequests, registerK8sCommands];
