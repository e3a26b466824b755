// Why an image was built: which input differs from the service's previous image (base, berth, node, environment, lock, variables, source).
import { diffManifests } from './source.js';
import type { AppInputs, EnvInputs, RuntimeInputs } from './tags.js';

/** Every input of an app image, down the chain, as its row keeps them for the next explanation. */
export interface ChainInputs {
  readonly runtime: RuntimeInputs;
  readonly env?: EnvInputs;
  /** name → version of the env's lock. */
  readonly packages?: Readonly<Record<string, string>>;
  readonly app: AppInputs;
  /** path → sha of each source file; absent for very large sources. */
  readonly manifest?: Readonly<Record<string, string>>;
}

const short = (s: string): string => s.replace(/^sha256:/, '').slice(0, 12);

/** One line for people; `previous` undefined means the service (or these inputs) had no image before. */
export function explainRebuild(previous: ChainInputs | undefined, next: ChainInputs, service: string | undefined): string {
  if (previous === undefined) return service === undefined ? 'no earlier image of these inputs' : `first image of service ${service}`;
  const changes: string[] = [];
  const a = previous.runtime;
  const b = next.runtime;
  if (a.base !== b.base) changes.push(`base image changed: ${a.baseName} ${short(a.base)} → ${b.baseName} ${short(b.base)}`);
  if (a.berthVersion !== b.berthVersion) changes.push(`berth changed: ${a.berthVersion} → ${b.berthVersion}`);
  else if (a.runtimeFiles !== b.runtimeFiles) changes.push(`berth's runtime files changed (${short(a.runtimeFiles)} → ${short(b.runtimeFiles)})`);
  if (a.node.version !== b.node.version || a.node.sha256 !== b.node.sha256) changes.push(`node changed: ${a.node.version} → ${b.node.version}`);
  changes.push(...envChanges(previous, next));
  const vars = changedKeys(previous.app.variables, next.app.variables);
  if (vars.length > 0) changes.push(`variables changed: ${list(vars)}`);
  if (previous.app.source !== next.app.source) changes.push(sourceChange(previous, next));
  if (changes.length === 0) return 'the image of these same inputs was neither here nor in the registry (removed since it was made?)';
  return changes.join('; ');
}

function envChanges(previous: ChainInputs, next: ChainInputs): string[] {
  const a = previous.env;
  const b = next.env;
  if (a === undefined && b === undefined) return [];
  if (a === undefined) return [`environment added: ${b!.environment.ref}`];
  if (b === undefined) return [`environment removed: ${a.environment.ref}`];
  const out: string[] = [];
  if (a.environment.digest !== b.environment.digest) {
    out.push(`environment changed: ${a.environment.ref} → ${b.environment.ref} (its packages or options differ)`);
  } else if (a.lock !== b.lock) {
    const pa = previous.packages ?? {};
    const pb = next.packages ?? {};
    const diffs = [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort().filter((n) => pa[n] !== pb[n])
      .map((n) => (pa[n] === undefined ? `+${n} ${pb[n]}` : pb[n] === undefined ? `-${n} ${pa[n]}` : `${n} ${pa[n]} → ${pb[n]}`));
    out.push(`locked packages changed${diffs.length > 0 ? `: ${list(diffs)}` : ' (wheel hashes differ)'}`);
  }
  if (a.python !== b.python) out.push(`the image's python changed: ${a.python ?? '-'} → ${b.python ?? '-'}`);
  return out;
}

function sourceChange(previous: ChainInputs, next: ChainInputs): string {
  if (previous.manifest === undefined || next.manifest === undefined) return `source changed (${short(previous.app.source)} → ${short(next.app.source)})`;
  const d = diffManifests(previous.manifest, next.manifest);
  const parts = [...d.changed, ...d.added.map((p) => `${p} (added)`), ...d.removed.map((p) => `${p} (removed)`)];
  return parts.length === 0 ? 'source changed: folders added or removed' : `source changed: ${list(parts)}`;
}

function changedKeys(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().filter((k) => a[k] !== b[k]);
}

function list(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
