// What `berth up` says about the admin token: off loopback a warning of what it protects, the token once if generated, where clients find it.
import { isLoopbackHost, type AdminToken } from '../control/admin-token.js';
import type { EnvSnapshot } from '../core/home.js';

/** The lines `berth up` prints after the plane answers; none for a loopback plane without a token (unchanged). */
export function adminTokenNotice(host: string, token: AdminToken | undefined): string[] {
  if (token === undefined) return [];
  const lines: string[] = [];
  if (!isLoopbackHost(host)) {
    lines.push(`warning: the control plane listens on ${host}, off loopback: the admin API (/v1/...: models, deployments, scoring keys, environments) requires the admin token; scoring (/api/v1/service/NAME/score) keeps each service's own keys, and /metrics and /openapi.json need no token`);
  } else {
    lines.push('the admin API (/v1/...) requires the admin token');
  }
  if (token.generated) lines.push(`admin token (generated, shown only now; kept in ${token.file ?? '?'}, mode 0600): ${token.value}`);
  else lines.push(`admin token: from ${token.from}`);
  if (token.from === '--admin-token') lines.push('note: a token on the command line is visible to other users of this machine (ps); prefer --admin-token-file FILE or BERTH_ADMIN_TOKEN');
  lines.push(token.file === undefined
    ? 'clients send it as Authorization: Bearer <token>; the berth CLI reads it from BERTH_ADMIN_TOKEN'
    : `clients send it as Authorization: Bearer <token>; the berth CLI reads it from BERTH_ADMIN_TOKEN, else (same BERTH_HOME) from ${token.file}`);
  return lines;
}

/** The environment without BERTH_ADMIN_TOKEN: replicas and builds inherit the plane's environment and need no admin token. */
export function withoutAdminToken(env: EnvSnapshot): EnvSnapshot {
  const { BERTH_ADMIN_TOKEN: _dropped, ...rest } = env;
  return Object.freeze(rest);
}
