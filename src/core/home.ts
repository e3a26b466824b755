// Where berth keeps its state ($BERTH_HOME, default ~/.berth): resolved once from a flag and the env snapshot.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type EnvSnapshot = Readonly<Record<string, string | undefined>>;

/** The absolute home directory: `--home` wins over BERTH_HOME, which wins over ~/.berth. */
export function resolveHome(flag: string | undefined, env: EnvSnapshot): string {
  const chosen = nonEmpty(flag) ?? nonEmpty(env.BERTH_HOME) ?? join(nonEmpty(env.HOME) ?? homedir(), '.berth');
  return resolve(chosen);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
