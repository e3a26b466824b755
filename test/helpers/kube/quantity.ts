// Resource quantities (`500m`, `2Gi`, `1.5`): their value, and the canonical form the API server stores them in.
import type { Json } from './types.js';

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

export function isQuantity(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v !== 'string') return false;
  const m = QUANTITY.exec(v.trim());
  if (m === null) return false;
  const suffix = m[2] as string;
  return suffix in BINARY || suffix in DECIMAL || /^[eE][-+]?[0-9]+$/.test(suffix);
}

/** Exact value in nano-units (value × 10⁹) and whether the suffix was binary. */
function parse(v: string | number): { nano: bigint; binary: boolean } {
  const s = String(v).trim();
  const m = QUANTITY.exec(s);
  if (m === null) throw new Error(`quantities must match the regular expression '${QUANTITY.source}'`);
  const [, num, suffix] = m as unknown as [string, string, string];
  const neg = num.startsWith('-');
  const [int, frac = ''] = num.replace(/^[+-]/, '').split('.');
  const digits = BigInt(`${int || '0'}${frac}`);
  let exp10 = -frac.length + 9;
  let mult = 1n;
  let binary = false;
  if (suffix in BINARY) {
    mult = 1024n ** BigInt(BINARY[suffix] as number);
    binary = true;
  } else if (suffix in DECIMAL) exp10 += DECIMAL[suffix] as number;
  else exp10 += Number(suffix.slice(1));
  let nano = digits * mult;
  // Below a nano-unit the real server rounds up.
  nano = exp10 >= 0 ? nano * 10n ** BigInt(exp10) : (nano + 10n ** BigInt(-exp10) - 1n) / 10n ** BigInt(-exp10);
  return { nano: neg ? -nano : nano, binary };
}

/** The quantity as a number of units (cores, bytes, GPUs). */
export function quantityValue(v: string | number | undefined): number {
  if (v === undefined) return 0;
  return Number(parse(v).nano) / 1e9;
}

/** The canonical string the real server stores: `0.5` → `500m`, `1024Mi` → `1Gi`, `1.5Gi` → `1536Mi`. */
export function canonicalQuantity(v: string | number): string {
  const { nano, binary } = parse(v);
  const neg = nano < 0n;
  const abs = neg ? -nano : nano;
  const sign = neg ? '-' : '';
  if (abs === 0n) return '0';
  if (binary && abs % 1_000_000_000n === 0n) {
    const units = abs / 1_000_000_000n;
    for (const [suffix, n] of Object.entries(BINARY).reverse()) {
      const m = 1024n ** BigInt(n);
      if (units % m === 0n) return `${sign}${units / m}${suffix}`;
    }
    return `${sign}${units}`;
  }
  for (const [suffix, e] of Object.entries(DECIMAL).sort((a, b) => b[1] - a[1])) {
    const m = 10n ** BigInt(e + 9);
    if (abs % m === 0n) return `${sign}${abs / m}${suffix}`;
  }
  return `${sign}${abs}n`;
}

/** Canonicalises every quantity in a ResourceRequirements-like map (requests, limits, allocatable). */
export function canonicalMap(m: Json): Json {
  if (m === undefined || m === null || typeof m !== 'object') return m;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = isQuantity(v) ? canonicalQuantity(v as string | number) : (v as string);
  return out;
}
