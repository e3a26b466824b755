// The built dashboard ships in the package and stays within its budget: at most 250 KB of JavaScript gzipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { shipped } from '../../src/core/paths.js';
import { UI_ASSETS } from '../../src/ui/server/compose.js';

test('npm run build put the dashboard where the plane serves it from, within 250 KB of JavaScript gzipped', (t) => {
  const root = shipped(UI_ASSETS);
  assert.ok(existsSync(join(root, 'index.html')), `${root}/index.html (npm run build makes it)`);
  const assets = join(root, 'assets');
  const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
  assert.ok(scripts.length > 0);
  const gz = scripts.reduce((n, f) => n + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
  t.diagnostic(`dashboard JavaScript: ${(gz / 1024).toFixed(1)} KB gzipped in ${scripts.length} file(s)`);
  assert.ok(gz <= 250 * 1024, `${gz} bytes gzipped`);
  // Every script the page names exists (a stale index.html would load nothing).
  const index = readFileSync(join(root, 'index.html'), 'utf8');
  for (const m of index.matchAll(/\/ui\/(assets\/[^"']+)/g)) assert.ok(existsSync(join(root, m[1]!)), m[1]);
});
