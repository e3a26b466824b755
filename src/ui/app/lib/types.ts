// The shapes of the admin API responses the dashboard reads besides its own routes (a unit test checks them against the plane's types).

export interface Finding {
  readonly severity: 'critical' | 'error' | 'warning';
  readonly code: string;
  readonly symptom: string;
  readonly cause: string;
  readonly evidence: readonly string[];
  readonly fix: string;
}

export interface Diagnosis {
  readonly service: string;
  readonly since: string;
  readonly summary: string;
  readonly findings: readonly Finding[];
  readonly numbers: {
    readonly state: string; readonly ready_replicas: number; readonly desired_replicas: number; readonly restarts: number;
    readonly requests: number; readonly request_rate: number; readonly latency_p50_ms: number | null; readonly latency_p99_ms: number | null;
    readonly errors: Readonly<Record<string, number>>; readonly utilization: number | null;
  };
}

export interface Keys { readonly auth: 'key' | 'token' | 'none'; readonly primary_key: string; readonly secondary_key: string }
export interface ScoringToken { readonly access_token: string; readonly expires_on: string }

export interface ModelFile { readonly path: string; readonly size: number; readonly digest: string }
export interface ModelDetail { readonly name: string; readonly version: number; readonly files: readonly ModelFile[] }

export interface Environment {
  readonly name: string;
  readonly version: number;
  readonly description: string;
  readonly created_at: string;
  readonly digest: string;
  readonly state: 'NotBuilt' | 'Building' | 'Built' | 'Failed';
  readonly builds: number;
  readonly size?: number;
  readonly build_ms?: number;
  readonly built_at?: string;
  readonly python?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly fix?: string };
}

export interface Image {
  readonly tag: string;
  readonly kind: string;
  readonly state: 'building' | 'built' | 'failed';
  readonly present: boolean;
  readonly ref?: string;
  readonly size?: number;
  readonly service?: string;
  readonly why?: string;
  readonly build_ms?: number;
  readonly created_at: string;
  readonly last_used_at: string;
  readonly error?: { readonly code: string; readonly message: string; readonly fix?: string };
}
