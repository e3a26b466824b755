// Parsing settings at the edge: a strict zod schema, and the first problem reported as INVALID_SETTINGS naming the flag.
import type { z } from 'zod';
import { BerthError } from '../errors/catalogue.js';

/** Parses `raw` with `schema`; `flagNames` maps a field to the flag (or variable) the user typed, for the message. */
export function parseOrThrow<T>(schema: z.ZodType<T>, raw: unknown, flagNames: Readonly<Record<string, string>>): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = String(issue?.path[0] ?? '');
  throw new BerthError('INVALID_SETTINGS', { field: flagNames[key] ?? (key || 'settings'), detail: issue?.message ?? 'invalid' });
}
