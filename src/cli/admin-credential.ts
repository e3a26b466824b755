// Which admin token the CLI sends: BERTH_ADMIN_TOKEN, else the token file of the control plane running for $BERTH_HOME.
import { readFileSync } from 'node:fs';
import type { EnvSnapshot } from '../core/home.js';
import type { RunInfo } from '../control/runfile.js';

export interface AdminCredential {
  readonly adminToken?: { readonly value: string; readonly from: string };
  /** Where the CLI looked and found nothing: the 401 message says so. */
  readonly adminTokenLookedIn?: string;
}

/**
 * The home's token file goes only to the control plane that wrote the run file (same origin), never to a `--server`
 * elsewhere: that server could be anyone's, and the token opens this plane.
 */
export function adminCredential(server: string, running: RunInfo | undefined, home: string, env: EnvSnapshot): AdminCredential {
  const fromEnv = env.BERTH_ADMIN_TOKEN?.trim();
  if (fromEnv) return { adminToken: { value: fromEnv, from: 'BERTH_ADMIN_TOKEN' } };
  if (running?.url === undefined || !sameOrigin(running.url, server)) return { adminTokenLookedIn: 'BERTH_ADMIN_TOKEN' };
  const file = running.admin_token_file;
  if (file === undefined) return { adminTokenLookedIn: `BERTH_ADMIN_TOKEN; the control plane running for ${home} keeps no token file` };
  let value = '';
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (err) {
    return { adminTokenLookedIn: `BERTH_ADMIN_TOKEN and ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  return value === '' ? { adminTokenLookedIn: `BERTH_ADMIN_TOKEN and ${file}, which is empty` } : { adminToken: { value, from: file } };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
