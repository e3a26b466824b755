// This machine's capacity for replicas: CPU cores, memory and GPUs, detected or overridden with `--capacity`.
import { execFile } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { BerthError } from '../../errors/catalogue.js';

/** Bytes in one `memory_gb` unit: GiB, the unit os.totalmem and Kubernetes' `Gi` use. */
export const GIB = 1024 ** 3;

/** What a machine offers or a replica requests: CPU cores (fractions allowed), memory in GiB, whole GPUs. */
export interface Resources {
  readonly cpu: number;
  readonly memoryGb: number;
  readonly gpu: number;
}

export type CapacityOverride = Partial<Resources>;

export interface GpuInfo {
  readonly name: string;
  readonly memoryMb: number | undefined;
}

export interface Capacity extends Resources {
  /** Where each number came from. */
  readonly source: { readonly [K in keyof Resources]: 'detected' | 'override' };
  readonly gpus: readonly GpuInfo[];
  /** One line on how GPUs were looked for, e.g. `nvidia-smi not found: 0 GPUs`. */
  readonly gpuDetection: string;
}

const KEYS: Readonly<Record<string, keyof Resources>> = { cpu: 'cpu', memory_gb: 'memoryGb', gpu: 'gpu' };

/** Parses `cpu=4,memory_gb=16,gpu=1` (any subset, any order); throws INVALID_CAPACITY naming the bad part. */
export function parseCapacity(text: string): CapacityOverride {
  const fail = (detail: string): never => { throw new BerthError('INVALID_CAPACITY', { value: text, detail }); };
  if (text.trim() === '') fail('it is empty');
  const out: { -readonly [K in keyof Resources]?: number } = {};
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') fail('it has an empty item (two commas in a row, or a trailing comma)');
    const eq = part.indexOf('=');
    if (eq < 0) fail(`"${part}" is not key=value`);
    const name = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    const key = KEYS[name];
    if (key === undefined) fail(`unknown key "${name}"; the keys are cpu, memory_gb and gpu`);
    if (out[key!] !== undefined) fail(`${name} is given twice`);
    // Number('') is 0 and Number('0x10') is 16: accept plain decimals only.
    if (!/^\d+(\.\d+)?$|^\.\d+$/.test(value)) fail(`${name}=${value}: "${value}" is not a non-negative number`);
    const n = Number(value);
    if (key === 'gpu' && !Number.isInteger(n)) fail(`gpu=${value}: GPUs are whole devices; use a whole number`);
    if (key !== 'gpu' && n <= 0) fail(`${name}=${value}: must be greater than 0`);
    out[key!] = n;
  }
  return out;
}

/** Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader` output (`NVIDIA A100, 40960 MiB`). */
export function parseNvidiaSmi(output: string): GpuInfo[] {
  return output.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((line) => {
    const comma = line.lastIndexOf(',');
    const name = (comma < 0 ? line : line.slice(0, comma)).trim();
    const mem = comma < 0 ? undefined : /(\d+)\s*MiB/i.exec(line.slice(comma + 1));
    return { name, memoryMb: mem ? Number(mem[1]) : undefined };
  });
}

/** Result of running nvidia-smi: its stdout, or why there is none. */
export type GpuQueryResult = { readonly ok: true; readonly stdout: string } | { readonly ok: false; readonly why: string };

/** Runs nvidia-smi, bounded in time; a machine without it (or without a driver) has no GPUs. */
export function queryNvidiaSmi(timeoutMs: number): Promise<GpuQueryResult> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout) => {
      if (err === null) return resolve({ ok: true, stdout });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') return resolve({ ok: false, why: 'nvidia-smi not found' });
      if (e.killed === true) return resolve({ ok: false, why: `nvidia-smi did not answer within ${timeoutMs} ms` });
      resolve({ ok: false, why: `nvidia-smi failed (${String(e.code ?? e.message).split('\n')[0]})` });
    });
  });
}

export interface DetectCapacityOptions {
  /** `--capacity` as typed, or already parsed; given keys replace the detected values. */
  readonly override?: string | CapacityOverride;
  /** Bound on the nvidia-smi call (default 5000 ms). */
  readonly gpuTimeoutMs?: number;
  /** Seams for tests. */
  readonly cpuCount?: () => number;
  readonly totalMemoryBytes?: () => number;
  readonly queryGpus?: (timeoutMs: number) => Promise<GpuQueryResult>;
}

/** Detects this machine's capacity, applying the override; skips nvidia-smi when the override fixes the GPU count. */
export async function detectCapacity(options: DetectCapacityOptions = {}): Promise<Capacity> {
  const override = typeof options.override === 'string' ? parseCapacity(options.override) : options.override ?? {};
  let gpus: GpuInfo[] = [];
  let gpuDetection = 'set by --capacity';
  if (override.gpu === undefined) {
    const result = await (options.queryGpus ?? queryNvidiaSmi)(options.gpuTimeoutMs ?? 5000);
    gpus = result.ok ? parseNvidiaSmi(result.stdout) : [];
    gpuDetection = result.ok ? `nvidia-smi: ${gpus.length} GPU(s)` : `${result.why}: 0 GPUs`;
  }
  const detected: Resources = {
    cpu: (options.cpuCount ?? availableParallelism)(),
    memoryGb: (options.totalMemoryBytes ?? totalmem)() / GIB,
    gpu: gpus.length,
  };
  const pick = <K extends keyof Resources>(k: K): number => override[k] ?? detected[k];
  const src = (k: keyof Resources): 'detected' | 'override' => (override[k] === undefined ? 'detected' : 'override');
  return {
    cpu: pick('cpu'),
    memoryGb: pick('memoryGb'),
    gpu: pick('gpu'),
    source: { cpu: src('cpu'), memoryGb: src('memoryGb'), gpu: src('gpu') },
    gpus,
    gpuDetection,
  };
}

/** `cpu=2, memory_gb=23.5, gpu=0`: the capacity or a request, in the flag's own words. */
export function formatResources(r: Resources): string {
  const num = (n: number): string => String(Math.round(n * 100) / 100);
  return `cpu=${num(r.cpu)}, memory_gb=${num(r.memoryGb)}, gpu=${num(r.gpu)}`;
}
