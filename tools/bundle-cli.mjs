// Build step: bundles the compiled CLI (dist/cli/main.js) into dist/bundle/, so a command loads a few files instead of hundreds of modules.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { berth: `${root}dist/cli/main.js` },
  outdir,
  bundle: true,
  // Each command stays its own chunk, loaded on demand as dist/cli/commands/index.js does.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Left as packages: a native addon, the tsx loader user scripts run through, the two large clients only the control
  // plane's targets load (they read files of their own at run time), and the CommonJS packages berth imports on
  // demand (esbuild gives a split-off CommonJS chunk only a default export, so named imports would be undefined).
  external: ['better-sqlite3', 'tsx', 'tsx/*', 'dockerode', '@kubernetes/client-node', 'undici', 'yaml'],
  // Bundled CommonJS packages call require(); ES modules have none of their own.
  banner: { js: "import { createRequire as berthCreateRequire } from 'node:module'; const require = berthCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The case above, caught here rather than by a user: a chunk that is a CommonJS package imported with import().
const defaultOnly = readdirSync(outdir).filter((f) => f.endsWith('.js') && /^export default require_/m.test(readFileSync(`${outdir}/${f}`, 'utf8')));
if (defaultOnly.length > 0) {
  console.error(`bundle-cli: ${defaultOnly.join(', ')} would give import() a default export only: add the package to external`);
  process.exit(1);
}
