// The Open Inference Protocol's REST paths, matched on `berth serve` (the gateway forwards the same paths under a service's prefix).

type ModelTarget = { readonly model: string; readonly version?: string };

export type OipRoute =
  | { readonly kind: 'live' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'server' }
  | ({ readonly kind: 'model' } & ModelTarget)
  | ({ readonly kind: 'model-ready' } & ModelTarget)
  | ({ readonly kind: 'infer' } & ModelTarget);

/**
 * `/v2`, `/v2/health/live|ready`, `/v2/models/NAME[/versions/V][/ready|/infer]`; one trailing slash is ignored. Names
 * are percent-decoded; undefined for any other path (or an undecodable name).
 */
export function matchOipPath(path: string): OipRoute | undefined {
  const trimmed = path.length > 3 && path.endsWith('/') ? path.slice(0, -1) : path;
  const parts = trimmed.split('/').slice(1);
  if (parts[0] !== 'v2') return undefined;
  if (parts.length === 1) return { kind: 'server' };
  if (parts[1] === 'health' && parts.length === 3) {
    if (parts[2] === 'live') return { kind: 'live' };
    if (parts[2] === 'ready') return { kind: 'ready' };
    return undefined;
  }
  if (parts[1] !== 'models' || parts.length < 3) return undefined;
  const model = decode(parts[2]!);
  if (model === undefined) return undefined;
  let rest = parts.slice(3);
  let version: string | undefined;
  if (rest[0] === 'versions') {
    if (rest.length < 2) return undefined;
    version = decode(rest[1]!);
    if (version === undefined) return undefined;
    rest = rest.slice(2);
  }
  const target: ModelTarget = version === undefined ? { model } : { model, version };
  if (rest.length === 0) return { kind: 'model', ...target };
  if (rest.length === 1 && rest[0] === 'ready') return { kind: 'model-ready', ...target };
  if (rest.length === 1 && rest[0] === 'infer') return { kind: 'infer', ...target };
  return undefined;
}

function decode(segment: string): string | undefined {
  if (segment === '') return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
