// What every part of the stand-in shares: the store, the options, and the hooks the simulated kubelet offers the API (logs).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from './store.js';

export interface NodeSpec {
  readonly name: string;
  /** Allocatable resources, as quantities: cpu `4`, memory `16Gi`, `nvidia.com/gpu` `1`, pods `110`. */
  readonly allocatable: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface Context {
  readonly store: Store;
  readonly token: string;
  readonly bookmarkIntervalMs: number;
  /** Serves GET pods/{name}/log (set by the kubelet). */
  podLog?: (req: IncomingMessage, res: ServerResponse, ns: string, name: string, query: URLSearchParams) => Promise<void>;
  /** Open watch responses, ended when the stand-in stops. */
  readonly watches: Set<ServerResponse>;
}
