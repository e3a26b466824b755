// Benchmark helper: summarises a V8 .cpuprofile (from node --cpu-prof) into top self-time functions and areas.
import fs from 'node:fs';
import path from 'node:path';

function area(url, name, repoRoot) {
  if (!url) return /^\(.*\)$/.test(name) ? name : '(native code)';
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const rel = url.startsWith('file://') ? url.slice(7) : url;
  const nm = rel.lastIndexOf('node_modules/');
  if (nm >= 0) return `npm:${rel.slice(nm + 13).split('/')[0]}`;
  const r = path.relative(repoRoot, rel);
  return r.startsWith('..') ? rel : r;
}

/** Percentages are of busy (non-idle) time. { busyMs, idleMs, topFunctions: [{fn, where, selfMs, pct}], topAreas: [{area, selfMs, pct}] } */
export function summariseProfile(file, repoRoot, top = 20) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  const areas = new Map();
  let total = 0; // busy time: everything but (idle)
  let idle = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)?.callFrame ?? {};
    const name = cf.functionName || '(anonymous)';
    const a = area(cf.url, name, repoRoot);
    if (name === '(idle)') { idle += us; continue; }
    const key = `${name}\u0000${cf.url ? `${a}:${(cf.lineNumber ?? -1) + 1}` : '(native)'}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    areas.set(a, (areas.get(a) ?? 0) + us);
    total += us;
  }
  const pct = (us) => +((100 * us) / total).toFixed(1);
  const topFunctions = [...fns].sort((x, y) => y[1] - x[1]).slice(0, top).map(([k, us]) => {
    const [fn, where] = k.split('\u0000');
    return { fn, where, selfMs: +(us / 1000).toFixed(1), pct: pct(us) };
  });
  const topAreas = [...areas].sort((x, y) => y[1] - x[1]).slice(0, top).map(([a, us]) => ({ area: a, selfMs: +(us / 1000).toFixed(1), pct: pct(us) }));
  return { file: path.relative(repoRoot, file), busyMs: +(total / 1000).toFixed(1), idleMs: +(idle / 1000).toFixed(1), topFunctions, topAreas };
}

export function formatProfile(label, s) {
  const lines = [`CPU profile of ${label} (${s.file}): ${s.busyMs} ms busy, ${s.idleMs} ms idle; shares of busy time:`, '  by area (self time):'];
  for (const a of s.topAreas.slice(0, 12)) lines.push(`    ${String(a.pct).padStart(5)}%  ${a.area}`);
  lines.push('  top functions (self time):');
  for (const f of s.topFunctions) lines.push(`    ${String(f.pct).padStart(5)}%  ${f.fn}  ${f.where}`);
  return lines.join('\n');
}

// Standalone: node bench/lib/cpuprofile.mjs FILE.cpuprofile
if (import.meta.url === `file://${process.argv[1]}`) {
  const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  for (const f of process.argv.slice(2)) console.log(formatProfile(path.basename(f), summariseProfile(f, repoRoot)));
}
