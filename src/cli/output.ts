// How the CLI prints results: aligned tables for people, `--output json` for programs.
import { Option } from 'commander';
import type { CliContext } from './context.js';

export type OutputFormat = 'table' | 'json';

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'table for people, json for programs').choices(['table', 'json']).default('table');
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number;
  /** numbers read best right-aligned */
  readonly align?: 'left' | 'right';
}

/** Rows as text lines, columns padded to their widest cell; the last column is not padded. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string[] {
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => String(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells.map((line) =>
    line
      .map((cell, i) => {
        if (i === line.length - 1 && columns[i]?.align !== 'right') return cell;
        return columns[i]?.align === 'right' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0);
      })
      .join('  ')
      .trimEnd(),
  );
}

export function printTable<T>(ctx: CliContext, columns: readonly Column<T>[], rows: readonly T[]): void {
  for (const line of formatTable(columns, rows)) ctx.out(line);
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}

/** Label/value lines, labels padded, for showing one object. */
export function printFields(ctx: CliContext, fields: readonly (readonly [string, string | number])[]): void {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  for (const [k, v] of fields) ctx.out(`${(k + ':').padEnd(width)} ${v}`);
}

/** 1536 → "1.5 KiB" */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function formatTags(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(',');
}
