// The rollout guardrail's rule: `--rollback-on "error_rate>2%,p99>500ms" --window 60s` parsed once into a frozen rule, and judged against a window's figures.
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { parseDuration } from '../settings.js';

/** A parsed rule: roll the candidate back when its 5xx share or its p99 over the window is above a bound. */
export interface GuardrailRule {
  /** 5xx answers as a percent of the window's requests (0–100, exclusive). */
  readonly error_rate_percent?: number;
  readonly p99_ms?: number;
  /** Fewer requests than this in the window are no evidence either way (default 10). */
  readonly min_requests: number;
  readonly window_ms: number;
}

/** The rule as stored with the rollout (the same fields, checked again when read back). */
export const guardrailRuleSchema = z.object({
  error_rate_percent: z.number().gt(0).lt(100).optional(),
  p99_ms: z.number().positive().optional(),
  min_requests: z.number().int().min(1).max(1_000_000),
  window_ms: z.number().int().min(1000).max(3_600_000),
}).strict();

export const DEFAULT_WINDOW_MS = 60_000;
export const DEFAULT_MIN_REQUESTS = 10;
const MIN_WINDOW_MS = 5_000;
const MAX_WINDOW_MS = 3_600_000;

const invalid = (detail: string): never => {
  throw new BerthError('GUARDRAIL_RULE_INVALID', { detail });
};

const percent = z.string().regex(/^\d+(\.\d+)?%$/, 'a percent such as 2% or 0.5%').transform((v) => Number(v.slice(0, -1))).pipe(z.number().gt(0, 'must be above 0%').lt(100, 'must be below 100%'));
const millis = z.string().regex(/^\d+(\.\d+)?(ms|s)$/, 'a duration such as 500ms or 1.5s').transform((v) => parseDuration(v) ?? 0).pipe(z.number().positive('must be above 0 ms'));
const count = z.string().regex(/^\d{1,7}$/, 'a whole number').transform(Number).pipe(z.number().int().min(1, 'must be at least 1'));

/** Each clause the rule text may have: its operator and how its value reads. */
const CLAUSES = {
  error_rate: { op: '>', value: percent },
  p99: { op: '>', value: millis },
  min_requests: { op: '=', value: count },
} as const;

/**
 * Parses `--rollback-on` and `--window` (both as the user typed them): comma-separated clauses `error_rate>P%`,
 * `p99>Dms|s` and optionally `min_requests=N`; the window is 5 s to 1 h (default 60 s). A bad clause is one
 * GUARDRAIL_RULE_INVALID naming it.
 */
export function parseGuardrail(text: string, window?: string | number): GuardrailRule {
  const rule: { error_rate_percent?: number; p99_ms?: number; min_requests: number; window_ms: number } = { min_requests: DEFAULT_MIN_REQUESTS, window_ms: DEFAULT_WINDOW_MS };
  const clauses = text.split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (clauses.length === 0) invalid('give at least one bound, e.g. --rollback-on "error_rate>2%,p99>500ms"');
  const seen = new Set<string>();
  for (const clause of clauses) {
    const m = /^([a-z_0-9]+)\s*(>=|<=|>|<|=)\s*(.+)$/.exec(clause);
    if (m === null) invalid(`"${clause}" is not a bound: write NAME>VALUE, e.g. error_rate>2% or p99>500ms`);
    const [, name, op, raw] = m!;
    if (!(name! in CLAUSES)) invalid(`"${clause}": unknown figure ${name}; the guardrail watches error_rate (5xx share) and p99 (latency), and takes min_requests=N`);
    const def = CLAUSES[name as keyof typeof CLAUSES];
    if (op !== def.op) invalid(`"${clause}": write ${name}${def.op}VALUE`);
    if (seen.has(name!)) invalid(`"${clause}": ${name} is given twice`);
    seen.add(name!);
    const parsed = def.value.safeParse(raw!.trim());
    if (!parsed.success) invalid(`"${clause}": ${parsed.error.issues[0]?.message ?? 'invalid value'}`);
    const v = parsed.data as number;
    if (name === 'error_rate') rule.error_rate_percent = v;
    else if (name === 'p99') rule.p99_ms = v;
    else rule.min_requests = v;
  }
  if (rule.error_rate_percent === undefined && rule.p99_ms === undefined) invalid('give error_rate>P% or p99>Dms (min_requests alone bounds nothing)');
  if (window !== undefined) {
    const ms = typeof window === 'number' ? window : parseDuration(window);
    if (ms === undefined || !Number.isFinite(ms)) invalid(`window "${window}" is not a duration: write 60s, 5m or 30000ms`);
    if (ms! < MIN_WINDOW_MS || ms! > MAX_WINDOW_MS) invalid(`window ${formatMs(ms!)} must be between 5 s and 1 h`);
    rule.window_ms = Math.round(ms!);
  }
  return Object.freeze(rule);
}

/** The rule as one line, in the form it is typed. */
export function formatRule(rule: GuardrailRule): string {
  const parts = [
    ...(rule.error_rate_percent === undefined ? [] : [`error_rate>${rule.error_rate_percent}%`]),
    ...(rule.p99_ms === undefined ? [] : [`p99>${rule.p99_ms}ms`]),
    ...(rule.min_requests === DEFAULT_MIN_REQUESTS ? [] : [`min_requests=${rule.min_requests}`]),
  ];
  return `${parts.join(',')} over ${formatMs(rule.window_ms)}`;
}

/** A generation's figures over (up to) the rule's window. */
export interface WindowFigures {
  /** The span the figures cover: shorter than the window while it fills. */
  readonly spanS: number;
  readonly requests: number;
  /** Answered 5xx (as the client saw it, or would have for a mirrored copy). */
  readonly errors: number;
  readonly p99Ms: number | null;
}

export type Verdict =
  | { readonly breached: false; readonly why: string }
  | { readonly breached: true; readonly message: string; readonly numbers: Readonly<Record<string, number | null>> };

/** Whether the figures break the rule; the message names every bound broken with its numbers. */
export function judge(rule: GuardrailRule, f: WindowFigures): Verdict {
  if (f.requests < rule.min_requests) return { breached: false, why: `${f.requests} of at least ${rule.min_requests} requests seen` };
  const over = `over ${Math.round(f.spanS)} s`;
  const broken: string[] = [];
  const rate = (f.errors * 100) / f.requests;
  if (rule.error_rate_percent !== undefined && rate > rule.error_rate_percent) {
    broken.push(`error_rate ${round1(rate)}% > ${rule.error_rate_percent}% ${over} (${f.errors} of ${f.requests} requests)`);
  }
  if (rule.p99_ms !== undefined && f.p99Ms !== null && f.p99Ms > rule.p99_ms) {
    broken.push(`p99 ${Math.round(f.p99Ms)} ms > ${rule.p99_ms} ms ${over} (${f.requests} requests)`);
  }
  if (broken.length === 0) return { breached: false, why: 'within bounds' };
  return {
    breached: true,
    message: broken.join('; '),
    numbers: { error_rate_percent: round1(rate), errors: f.errors, requests: f.requests, p99_ms: f.p99Ms === null ? null : Math.round(f.p99Ms), window_s: Math.round(f.spanS) },
  };
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

function formatMs(ms: number): string {
  return ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
