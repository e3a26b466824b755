// Shared parsing and formatting of the small text forms the CLI takes: repeated `key=value` flags and `name[:version]` references.
import { BerthError } from '../errors/catalogue.js';

/**
 * Repeated `--tag k=v` / `--var K=V` values into an object; a missing `=` or a repeated key is an error.
 * `noun` names one item in messages ("tag"), `form` says how to write them ("tags as key=value").
 */
export function parseKeyValues(values: readonly string[], noun: string, form: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of values) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new BerthError('INVALID_ARGUMENT', { detail: `invalid ${noun} "${text}": write ${form}` });
    const key = text.slice(0, eq);
    if (key in out) throw new BerthError('INVALID_ARGUMENT', { detail: `${noun} "${key}" is given twice` });
    out[key] = text.slice(eq + 1);
  }
  return out;
}

/** `name` or `name:version`. */
export function formatNameVersion(ref: { readonly name: string; readonly version?: number | undefined }): string {
  return ref.version === undefined ? ref.name : `${ref.name}:${ref.version}`;
}
