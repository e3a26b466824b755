// The gateway benchmark's rollout runs: a 90/10 canary split and a 20 % mirror at half load, against the same two replicas with no split.
/** Issue 19's target: a split or a mirror costs at most 5 % of the throughput at half load. */
export const ROLLOUT_TARGET = { maxOverheadPct: 5 };

const f2 = (v) => (v === null || v === undefined ? '—' : v.toFixed(2));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/**
 * Deploys two one-replica services and starts a rollout on each (the same spec as a second generation, so two
 * replicas like gw-two): `gw-split` at 90/10, `gw-mirror` at 100/0 with copies of 20 % to the candidate. Returns
 * their scoring URLs and headers by path name.
 */
export async function deployRolloutServices(plane, entry, fixtures) {
  const paths = { split: ['gw-split', ['--traffic', '10']], mirror: ['gw-mirror', ['--traffic', '0', '--mirror', '20']] };
  const urls = {};
  const headers = {};
  for (const [p, [name, flags]] of Object.entries(paths)) {
    await plane.cli(['deploy', '--name', name, '--entry-script', entry, '--source-dir', fixtures, '--replicas', '1']);
    await plane.cli(['service', 'update', name, ...flags]);
    const s = await plane.api(`/v1/services/${name}`);
    if (s.rollout?.state !== 'Live') throw new Error(`${name}: the rollout is not live (${JSON.stringify(s.rollout)})`);
    urls[p] = s.scoring_uri;
    headers[p] = { 'content-type': 'application/json', authorization: `Bearer ${s.keys.primary}` };
  }
  return { urls, headers };
}

/** Per round: { gw2, split, mirror } runs at the same offered rate. Overhead = 1 − throughput ÷ no split's, in percent. */
export function rolloutSummary(rounds) {
  const m = (fn) => median(rounds.map(fn));
  const overhead = (p) => m((r) => 100 * (1 - r.rollout[p].reqPerSec / r.rollout.gw2.reqPerSec));
  return {
    rate: m((r) => r.rate),
    reqPerSecNoSplit: m((r) => r.rollout.gw2.reqPerSec),
    reqPerSecSplit: m((r) => r.rollout.split.reqPerSec),
    reqPerSecMirror: m((r) => r.rollout.mirror.reqPerSec),
    splitVsNoSplit: m((r) => r.rollout.split.reqPerSec / r.rollout.gw2.reqPerSec),
    mirrorVsNoSplit: m((r) => r.rollout.mirror.reqPerSec / r.rollout.gw2.reqPerSec),
    splitOverheadPct: overhead('split'),
    mirrorOverheadPct: overhead('mirror'),
    p50: Object.fromEntries(['gw2', 'split', 'mirror'].map((p) => [p, m((r) => r.rollout[p].latencyMs.p50)])),
    p99: Object.fromEntries(['gw2', 'split', 'mirror'].map((p) => [p, m((r) => r.rollout[p].latencyMs.p99)])),
  };
}

export function rolloutChecks(s) {
  const t = ROLLOUT_TARGET.maxOverheadPct;
  return [
    [`90/10 split at half load: throughput ÷ no split (${f2(s.splitVsNoSplit)}×)`, `overhead ≤ ${t} %`, s.splitOverheadPct <= t],
    [`20 % mirror at half load: throughput ÷ no split (${f2(s.mirrorVsNoSplit)}×)`, `overhead ≤ ${t} %`, s.mirrorOverheadPct <= t],
  ];
}

export function rolloutMarkdown(s) {
  return [
    `Rollouts at half load (${Math.round(s.rate)} req/s offered), two replicas each: no split (gw-two), a 90/10 split over two generations, and 100/0 with a 20 % mirror to the second generation:`,
    '',
    '| path | req/s | ÷ no split | p50 | p99 |',
    '|---|---:|---:|---:|---:|',
    `| no split (2 replicas) | ${f2(s.reqPerSecNoSplit)} | 1.00× | ${f2(s.p50.gw2)} ms | ${f2(s.p99.gw2)} ms |`,
    `| 90/10 split (1 + 1 replicas) | ${f2(s.reqPerSecSplit)} | ${f2(s.splitVsNoSplit)}× | ${f2(s.p50.split)} ms | ${f2(s.p99.split)} ms |`,
    `| 20 % mirror (1 + 1 replicas) | ${f2(s.reqPerSecMirror)} | ${f2(s.mirrorVsNoSplit)}× | ${f2(s.p50.mirror)} ms | ${f2(s.p99.mirror)} ms |`,
  ].join('\n');
}
