// Vite's build of the dashboard: sources in src/ui/app, output in dist/ui/www, served by the control plane under /ui/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
/** `npm run dev:ui` serves the sources with hot reload and sends API calls to a running plane (BERTH_SERVER, else the default). */
const plane = process.env.BERTH_SERVER ?? 'http://127.0.0.1:7070';

export default defineConfig({
  root: here('.'),
  base: '/ui/',
  // JSX compiles to Preact's automatic runtime (no React, no Babel).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: { proxy: { '/v1': plane, '/api': plane } },
  build: {
    outDir: here('../../../dist/ui/www'),
    emptyOutDir: true,
    target: 'es2022',
    // No source maps in the package: they would double what ships, and the plane serves the app, not its sources.
    sourcemap: false,
    reportCompressedSize: false,
    assetsInlineLimit: 0,
  },
});
