// Locations of files shipped with berth, valid both from src/ (tsx) and dist/ (compiled): both sit two levels below the package root.
import { fileURLToPath } from 'node:url';

export const packageRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of a file shipped in the package, given relative to the package root. */
export function shipped(relative: string): string {
  return fileURLToPath(new URL(relative, new URL('../../', import.meta.url)));
}
