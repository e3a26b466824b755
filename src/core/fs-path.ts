// Limits of a file-system path, checked where a path enters berth: an unusable one is a 400 naming its field.
import { z } from 'zod';

/** Linux PATH_MAX is 4096 bytes including the terminating NUL. */
export const PATH_MAX_BYTES = 4095;
/** Linux NAME_MAX: the longest single name (path segment), in bytes. */
export const NAME_MAX_BYTES = 255;

/**
 * Why `path` cannot be a file-system path, or undefined when it can. Unchecked, a NUL byte makes spawn and fs calls
 * throw, and an over-long name fails with ENAMETOOLONG: both surfaced as 500s. Lengths are UTF-8 bytes, as the kernel counts.
 */
export function pathProblem(path: string): string | undefined {
  if (path.includes('\0')) return 'cannot contain a NUL byte';
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > PATH_MAX_BYTES) return `is ${bytes} bytes long; a path has at most ${PATH_MAX_BYTES}`;
  for (const segment of path.split('/')) {
    const n = Buffer.byteLength(segment, 'utf8');
    if (n > NAME_MAX_BYTES) return `has a name of ${n} bytes; each part of a path has at most ${NAME_MAX_BYTES}`;
  }
  return undefined;
}

/** A refinement for a string schema that must be a usable path: `z.string().min(1).superRefine(checkPath)`. */
export function checkPath(path: string, ctx: z.RefinementCtx): void {
  const problem = pathProblem(path);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

/** A non-empty string usable as a file-system path (or a command looked up on PATH). */
export const fsPathSchema = z.string().min(1, 'must not be empty').superRefine(checkPath);

/** A string passed to a child process as an argument (a URL, a host): Node refuses NUL bytes in those. */
export const argSchema = z.string().min(1).max(PATH_MAX_BYTES).refine((s) => !s.includes('\0'), 'cannot contain a NUL byte');

/** A text (a requirements or package file) whose lines may become arguments of a child process. */
export const noNulText = (maxChars: number) => z.string().max(maxChars).refine((s) => !s.includes('\0'), 'cannot contain a NUL byte');
