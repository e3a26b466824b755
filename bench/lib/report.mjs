// Benchmark reporting: rounds → medians, ratio checks, console tables and the Markdown table for the README.

const SCENARIO_NAMES = { python: 'Python `score.py` (sum of rows)', js: 'JS no-op entry script', 'js-cpu': 'JS CPU-bound entry script' };
const fmt = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ms = (v) => (v === null || v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const pctStr = (v) => (v === null || v === undefined ? '—' : `${fmt(v)}%`);

/** Other processes using more than this (percent of one core) during a measurement make it suspect. */
export const NOISY_OTHER_CPU_PCT = 20;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Combine one target's rounds: the representative round is the one with the median throughput (its latency
 * figures are reported with it); every round is kept in `rounds`.
 */
export function combineRounds(rounds) {
  const measured = rounds.filter((r) => r.load);
  const base = measured.length
    ? [...measured].sort((a, b) => a.load.reqPerSec - b.load.reqPerSec)[(measured.length - 1) >> 1]
    : rounds[0];
  return {
    ...base,
    error: rounds.find((r) => r.error)?.error ?? null,
    roundsMeasured: measured.length,
    rounds: rounds.map((r, i) => ({
      round: i + 1,
      error: r.error,
      reqPerSec: r.load?.reqPerSec ?? null,
      p50: r.load?.latencyMs.p50 ?? null,
      p99: r.load?.latencyMs.p99 ?? null,
      non2xx: r.load?.non2xx ?? null,
      errors: r.load?.errors ?? null,
      serverCpuPct: r.serverCpuPct ?? null,
      otherCpuPct: r.otherCpuPct ?? null,
      irqCpuPct: r.irqCpuPct ?? null,
    })),
  };
}

/**
 * Evaluate a scenario's checks: per-round ratios (berth and the baseline — or, for `against: 'reference'`, the
 * reference — of the same round), then their median. A check without a target is informational (result INFO).
 */
export function evaluateChecks(scenario, rounds) {
  return scenario.checks.map((c) => {
    const informational = c.target === undefined;
    const out = { id: c.id, label: c.label, target: informational ? '—' : `${c.op} ${c.target}×`, ratio: null, roundRatios: [], result: informational ? 'INFO' : 'FAIL', reason: null };
    const other = (r) => (c.against === 'reference' ? r.reference : r.baseline);
    const paired = rounds.filter((r) => r.berth.load && other(r)?.load);
    if (paired.length === 0) {
      out.reason = rounds.some((r) => !r.berth.load) ? 'berth was not measured (see its error)' : 'the baseline was not measured (see its error)';
      return out;
    }
    out.roundRatios = paired.map((r) => +(c.metric === 'throughput'
      ? r.berth.load.reqPerSec / other(r).load.reqPerSec
      : r.berth.load.latencyMs.p99 / other(r).load.latencyMs.p99).toFixed(3));
    const ratio = median(out.roundRatios);
    out.ratio = +ratio.toFixed(3);
    if (informational) return out;
    const berthFailures = paired.reduce((a, r) => a + r.berth.load.non2xx + r.berth.load.errors, 0);
    const met = c.op === '>=' ? ratio >= c.target : ratio <= c.target;
    const reasons = [];
    if (berthFailures > 0) reasons.push(`berth had ${berthFailures} non-2xx/errors`);
    if (paired.length < rounds.length) reasons.push(`${rounds.length - paired.length} round(s) not measured`);
    out.reason = reasons.length ? reasons.join('; ') : null;
    out.result = met && berthFailures === 0 ? 'PASS' : 'FAIL';
    return out;
  });
}

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (align[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function targetRow(t) {
  if (!t.load) return [t.label, 'ERROR', '—', '—', '—', '—', fmt(t.idleRss?.totalMiB, 1), '—', '—', '—'];
  const l = t.load;
  return [
    t.label,
    fmt(l.reqPerSec),
    ms(l.latencyMs.p50),
    ms(l.latencyMs.p99),
    `${fmt(l.non2xx)} / ${fmt(l.errors)}`,
    fmt(l.completed),
    fmt(t.idleRss?.totalMiB, 1),
    pctStr(t.serverCpuPct),
    pctStr((100 * l.loadgenCpuS) / l.elapsedS),
    pctStr(t.otherCpuPct),
  ];
}

/** Where the servers' stdout went, in words. */
function logDestination(logTo) {
  return logTo === 'null' ? '/dev/null' : logTo === 'pipe' ? 'a pipe read by the benchmark' : 'a file';
}

/** Plain-text tables for the terminal. */
export function consoleReport(results) {
  const out = [];
  const m = results.meta;
  out.push('');
  out.push(`berth serve benchmark — ${m.date}`);
  out.push(`machine: ${m.cpus} CPU cores (${m.cpuModel}), ${fmt(m.memTotalMiB)} MiB; the load generator and the servers share these cores.`);
  out.push(`load: ${m.loadgen ?? 'autocannon'} in a separate process, closed loop, ${m.connections} keep-alive connections on 127.0.0.1, ` +
    `${m.warmupS} s warm-up then ${m.durationS} s measured per target, ${m.rounds} round(s)${m.durationS < 10 ? '  (SHORT RUN: below the ≥10 s the spec asks for)' : ''}.`);
  out.push(`versions: node ${m.versions.node}, ${m.versions.python ?? 'python ?'}, gunicorn ${m.versions.gunicorn ?? '?'}, flask ${m.versions.flask ?? '?'}, autocannon ${m.versions.autocannon}, wrk ${m.versions.wrk ?? 'not installed'}; servers' stdout to ${logDestination(m.logTo)}; berth at ${m.gitCommit ?? '?'}${m.gitDirty ? ' + uncommitted changes' : ''}`);
  for (const s of results.scenarios) {
    out.push('');
    out.push(`${s.title}   (request: ${s.request.method} ${s.request.path} ${s.request.body})`);
    const headers = ['server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx / errors', 'responses', 'idle RSS MiB', 'server CPU', 'loadgen CPU', 'other CPU'];
    out.push(table(headers, s.targets.map(targetRow), ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
    if (m.rounds > 1) {
      for (const t of s.targets) {
        out.push(`  ${t.label} per round: ${t.rounds.map((r) => (r.error ? 'ERROR' : `${fmt(r.reqPerSec)} req/s p99 ${ms(r.p99)} ms`)).join(' | ')}`);
      }
    }
    for (const t of s.targets) {
      if (t.serverCpuByProcess?.length > 1) {
        out.push(`  ${t.label}: server CPU by process: ${t.serverCpuByProcess.map((p) => `${p.comm} ${p.cpuPct}%`).join(', ')}`);
      }
    }
    for (const t of s.targets) {
      if (t.error) out.push(`  ! ${t.label}: ${t.error}`);
      if (t.note) out.push(`  note: ${t.label}: ${t.note}`);
      const noisy = t.rounds.filter((r) => (r.otherCpuPct ?? 0) > NOISY_OTHER_CPU_PCT);
      if (noisy.length) out.push(`  ! ${t.label}: other processes used > ${NOISY_OTHER_CPU_PCT}% of a core during ${noisy.length} measured window(s); treat its figures as noisy`);
    }
    for (const c of s.checks) {
      const per = c.roundRatios.length > 1 ? ` (rounds: ${c.roundRatios.map((r) => `${r.toFixed(2)}×`).join(', ')})` : '';
      out.push(`  ${c.result}  ${c.label} = ${c.ratio === null ? '—' : c.ratio.toFixed(2) + '×'} (target ${c.target})${per}${c.reason ? `  [${c.reason}]` : ''}`);
    }
  }
  out.push('');
  out.push('req/s counts 2xx responses only; p50/p99 are per-request latencies of 2xx responses (microsecond resolution).');
  out.push('server / loadgen / other CPU: CPU used during the measured window by the server\'s process tree, by the load generator,');
  out.push('and by other processes (interrupt/softirq time excluded) (100% = one core; the machine has ' + `${m.cpus * 100}%).`);
  out.push('idle RSS: resident memory of the server\'s process tree (from /proc) after readiness, before any load.');
  if (m.rounds > 1) out.push('With several rounds, each row is the round with the median throughput and each ratio the median of per-round ratios.');
  return out.join('\n');
}

/** Markdown for the README. */
export function markdownReport(results) {
  const m = results.meta;
  const lines = [];
  lines.push('| Scenario | Server | Throughput (req/s) | p50 (ms) | p99 (ms) | non-2xx / errors | Idle RSS (MiB) |');
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const s of results.scenarios) {
    for (const t of s.targets) {
      const r = targetRow(t);
      lines.push(`| ${SCENARIO_NAMES[s.id] ?? s.id} | ${t.label} | ${r[1]} | ${r[2]} | ${r[3]} | ${r[4]} | ${r[6]} |`);
    }
  }
  lines.push('');
  lines.push('| Check | Target | Measured | Result |');
  lines.push('|---|---:|---:|:---:|');
  for (const s of results.scenarios) {
    for (const c of s.checks) {
      lines.push(`| ${c.label} | ${c.target} | ${c.ratio === null ? '—' : c.ratio.toFixed(2) + '×'} | ${c.result} |`);
    }
  }
  lines.push('');
  lines.push(`Measured ${m.date.slice(0, 10)} with \`npm run bench:serve\` on ${m.cpus} CPU cores (${m.cpuModel}), shared by the load generator and the servers; ` +
    `node ${m.versions.node}, ${m.versions.python ?? 'Python'}, gunicorn ${m.versions.gunicorn ?? '?'}, Flask ${m.versions.flask ?? '?'}. ` +
    `Load: ${m.loadgen ?? 'autocannon'} in its own process, closed loop, ${m.connections} keep-alive connections on 127.0.0.1, ${m.warmupS} s warm-up then ${m.durationS} s measured per server` +
    `${m.rounds > 1 ? `, ${m.rounds} rounds (median)` : ''}; the servers' log (stdout) to ${logDestination(m.logTo)}. Throughput counts 2xx responses. gunicorn's sync workers close the connection after each response, so its clients reconnect for every request.`);
  return lines.join('\n');
}
