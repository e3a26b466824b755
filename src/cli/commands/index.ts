// The list of CLI commands; each module adds its subcommands to the program.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerServe } from './serve.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const commands: readonly RegisterCommand[] = [registerServe];
