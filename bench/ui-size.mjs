#!/usr/bin/env node
// Prints the dashboard's built JavaScript and CSS sizes, raw and gzipped, against its 250 KB gzipped JavaScript budget.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 250 * 1024;
const assets = fileURLToPath(new URL('../dist/ui/www/assets/', import.meta.url));
let files;
try {
  files = readdirSync(assets).filter((f) => /\.(js|css)$/.test(f)).sort();
} catch {
  console.error('no dashboard build in dist/ui/www: run npm run build first');
  process.exit(1);
}
let js = 0;
for (const f of files) {
  const body = readFileSync(join(assets, f));
  const gz = gzipSync(body, { level: 9 }).length;
  if (f.endsWith('.js')) js += gz;
  console.log(`  ${f.padEnd(32)} ${(body.length / 1024).toFixed(1).padStart(7)} KB  ${(gz / 1024).toFixed(1).padStart(6)} KB gzipped`);
}
const ok = js <= BUDGET;
console.log(`dashboard JavaScript: ${(js / 1024).toFixed(1)} KB gzipped of a ${BUDGET / 1024} KB budget: ${ok ? 'within' : 'OVER'}`);
process.exit(ok ? 0 : 1);
