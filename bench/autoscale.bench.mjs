// `npm run bench:autoscale`: a 50 ms score.py (max 1 concurrent, 1–4 replicas) under open-loop load stepping 5 → 40 → 5 req/s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { waitForQuiet } from './lib/machine.mjs';
import { startPlane } from './lib/plane.mjs';
import { installCleanupHandlers } from './lib/procs.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[bench:autoscale] ${msg}\n`);

const USAGE = `Usage: npm run bench:autoscale -- [options]

  --low R            offered load before and after the step, req/s   (default 5)
  --high R           offered load during the step, req/s              (default 40)
  --base-s S         seconds at --low before the step                 (default 10)
  --step-s S         seconds at --high                                (default 30)
  --stabilization D  berth up --autoscale-stabilization                (default 15s)
  --tail-s S         most seconds at --low after the step             (default stabilization + 30)
  --max-requests N   hard bound on requests sent                      (default 5000)
  --quiet-wait S     wait up to S s for a quiet machine               (default 30)
  --out FILE         JSON results (default bench/results/autoscale-latest.json)`;

const TARGETS = { firstScaleUpS: 2, step503Share: 0.01 };

function parse(argv) {
  const o = { low: 5, high: 40, baseS: 10, stepS: 30, stabilization: '15s', tailS: undefined, maxRequests: 5000, quietWaitS: 30, out: path.join(repoRoot, 'bench/results/autoscale-latest.json') };
  const args = [...argv];
  while (args.length) {
    const a = args.shift();
    const v = () => { const x = args.shift(); if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--low') o.low = Number(v());
    else if (a === '--high') o.high = Number(v());
    else if (a === '--base-s') o.baseS = Number(v());
    else if (a === '--step-s') o.stepS = Number(v());
    else if (a === '--stabilization') o.stabilization = v();
    else if (a === '--tail-s') o.tailS = Number(v());
    else if (a === '--max-requests') o.maxRequests = Number(v());
    else if (a === '--quiet-wait') o.quietWaitS = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '-h' || a === '--help') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else throw new Error(`unknown option ${a}\n\n${USAGE}`);
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(o.stabilization);
  if (!m) throw new Error('--stabilization: write e.g. 15s or 60s');
  o.stabilizationS = Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 }[m[2] ?? 's']);
  o.tailS ??= o.stabilizationS + 30;
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]);
const s1 = (ms) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

async function main() {
  const o = parse(process.argv.slice(2));
  installCleanupHandlers();
  const logDir = path.join(path.dirname(o.out), 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  if (o.quietWaitS > 0) await waitForQuiet({ maxBusyPct: 25, timeoutS: o.quietWaitS, log });
  const plane = await startPlane(repoRoot, logDir, ['--capacity', 'cpu=8,memory_gb=8,gpu=0', '--autoscale-stabilization', o.stabilization]);
  const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  try {
    await plane.cli(['deploy', '--name', 'bench-step', '--entry-script', 'sleep50_score.py', '--source-dir', path.join(repoRoot, 'bench/fixtures'),
      '--min-replicas', '1', '--max-replicas', '4', '--max-concurrent-requests', '1']);
    const svc = await plane.api('/v1/services/bench-step');
    const headers = { authorization: `Bearer ${svc.keys.primary}`, 'content-type': 'application/json' };
    log(`${svc.scoring_uri}: ${o.low} req/s for ${o.baseS} s, ${o.high} req/s for ${o.stepS} s, then ${o.low} req/s until it scales down (at most ${o.tailS} s); stabilisation ${o.stabilization}`);

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const sent = [];
    const pending = new Set();
    const timeline = [];
    let last = '';
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = await plane.api('/v1/services/bench-step').catch(() => undefined);
        if (s) {
          const key = `${s.desired_replicas}/${s.ready_replicas}`;
          if (key !== last) timeline.push({ t: now(), desired: s.desired_replicas, ready: s.ready_replicas });
          last = key;
        }
        await sleep(100);
      }
    })();
    const fire = (phase) => {
      const rec = { phase, t: now(), status: 0, ms: null };
      sent.push(rec);
      const p = fetch(svc.scoring_uri, { method: 'POST', body: '{}', headers, dispatcher, signal: AbortSignal.timeout(10_000) })
        .then(async (r) => { await r.arrayBuffer(); rec.status = r.status; })
        .catch(() => { rec.status = -1; })
        .finally(() => { rec.ms = now() - rec.t; pending.delete(p); });
      pending.add(p);
    };
    /** Open loop: request i of a phase goes out at start + i/rate, whatever the answers do. */
    const phase = async (name, rate, seconds, until) => {
      const start = now();
      for (let i = 0; ; i++) {
        const at = start + (i * 1000) / rate;
        if (at - start >= seconds * 1000 || sent.length >= o.maxRequests || until?.()) return { start, end: now() };
        await sleep(Math.max(0, at - now()));
        fire(name);
      }
    };
    const base = await phase('base', o.low, o.baseS);
    const step = await phase('step', o.high, o.stepS);
    log(`step done at ${s1(step.end)}; waiting for the scale-down at ${o.low} req/s`);
    const scaledDown = () => timeline.some((x) => x.t > step.end && x.desired === 1) && timeline.at(-1).ready === 1;
    let downAt;
    const tail = await phase('tail', o.low, o.tailS, () => {
      if (downAt === undefined && scaledDown()) downAt = now();
      return downAt !== undefined && now() - downAt > 5000;
    });
    await Promise.all([...pending]);
    polling = false;
    await poller;

    const { events } = await plane.api('/v1/services/bench-step/events?limit=5000');
    const wall = (iso) => Date.parse(iso);
    const startWall = Date.now() - now();
    const decisions = events.filter((e) => e.type === 'ScalingDecision').map((e) => ({ t: wall(e.time) - startWall, message: e.message, data: e.data }));
    const firstUp = decisions.find((d) => d.t >= step.start && d.data?.reason === 'above-target');
    const firstReady = timeline.find((x) => x.t >= step.start && x.ready > 1);
    // The first step down may come while the step still runs (4 replicas are more than 40 req/s needs at 70%).
    const downs = decisions.filter((d) => d.t >= step.start && d.data?.reason === 'below-target');
    const backToOne = timeline.find((x) => x.t >= step.end && x.desired === 1 && x.ready === 1);
    const inStep = sent.filter((r) => r.phase === 'step');
    const count = (rs, fn) => rs.filter(fn).length;
    const latency = (rs) => { const ms = rs.filter((r) => r.status === 200).map((r) => r.ms).sort((a, b) => a - b); return { p50: pct(ms, 0.5), p99: pct(ms, 0.99) }; };
    const summary = {
      sent: sent.length,
      byStatus: sent.reduce((a, r) => ({ ...a, [r.status]: (a[r.status] ?? 0) + 1 }), {}),
      firstScaleUpDecisionMs: firstUp ? firstUp.t - step.start : null,
      firstScaleUpMessage: firstUp?.message ?? null,
      firstAddedReplicaReadyMs: firstReady ? firstReady.t - step.start : null,
      step503: count(inStep, (r) => r.status === 503),
      stepRequests: inStep.length,
      step503Share: inStep.length ? count(inStep, (r) => r.status === 503) / inStep.length : null,
      otherFailures: count(sent, (r) => r.status !== 200 && r.status !== 503),
      scaleDowns: downs.map((d) => ({ afterStepStartMs: d.t - step.start, afterStepEndMs: d.t - step.end, message: d.message })),
      backToOneReplicaAfterStepMs: backToOne ? backToOne.t - step.end : null,
      latency: { base: latency(sent.filter((r) => r.phase === 'base')), step: latency(inStep), tail: latency(sent.filter((r) => r.phase === 'tail')) },
      phases: { base, step, tail },
    };
    const checks = [
      ['time to first scale-up', `≤ ${TARGETS.firstScaleUpS} s`, summary.firstScaleUpDecisionMs !== null && summary.firstScaleUpDecisionMs <= TARGETS.firstScaleUpS * 1000],
      ['share of 503s during the step', `≤ ${TARGETS.step503Share * 100}%`, summary.step503Share !== null && summary.step503Share <= TARGETS.step503Share],
      ['no other failures', '0', summary.otherFailures === 0],
      ['back to 1 replica after the step', `within the ${o.stabilization} window + 10 s`, summary.backToOneReplicaAfterStepMs !== null && summary.backToOneReplicaAfterStepMs <= (o.stabilizationS + 10) * 1000],
    ];
    const l = summary.latency;
    const lat = (x) => `${x.p50 === null ? '—' : x.p50.toFixed(0)} / ${x.p99 === null ? '—' : x.p99.toFixed(0)} ms`;
    const markdown = [
      `Step load (50 ms score.py, max 1 concurrent per replica, 1–4 replicas, target 70%, open loop ${o.low} → ${o.high} → ${o.low} req/s, step ${o.stepS} s, stabilisation ${o.stabilization}, ${os.availableParallelism()} CPU cores):`,
      '',
      '| measure | result | target |',
      '|---|---|---|',
      `| time to first scale-up decision | ${s1(summary.firstScaleUpDecisionMs)} (${summary.firstScaleUpMessage ?? 'none'}) | ≤ ${TARGETS.firstScaleUpS} s |`,
      `| first added replica ready | ${s1(summary.firstAddedReplicaReadyMs)} after the step began | — |`,
      `| 503s during the step | ${summary.step503} of ${summary.stepRequests} (${summary.step503Share === null ? '—' : (summary.step503Share * 100).toFixed(2)}%) | ≤ ${TARGETS.step503Share * 100}% |`,
      `| other failures | ${summary.otherFailures} | 0 |`,
      `| scale-down | ${summary.scaleDowns.map((d) => `${d.message}, ${d.afterStepEndMs < 0 ? `${s1(d.afterStepStartMs)} into the step` : `${s1(d.afterStepEndMs)} after the step`}`).join('; ') || 'none'}; 1 replica again ${s1(summary.backToOneReplicaAfterStepMs)} after the step | after ${o.stabilization} below target |`,
      `| latency p50 / p99 (before / during / after the step) | ${lat(l.base)} · ${lat(l.step)} · ${lat(l.tail)} | — |`,
    ].join('\n');
    const results = { date: new Date().toISOString(), cpus: os.availableParallelism(), options: o, summary, checks: checks.map(([what, target, pass]) => ({ what, target, pass })), decisions, timeline, markdown };
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
    const tl = timeline.map((x) => `${s1(x.t)} ${x.desired}/${x.ready}`).join(', ');
    process.stdout.write(`\ndecisions:\n${decisions.map((d) => `  ${s1(d.t)}  ${d.message}`).join('\n')}\ndesired/ready over time: ${tl}\n(step from ${s1(step.start)} to ${s1(step.end)})\n\n`);
    process.stdout.write(`${checks.map(([what, target, pass]) => `${pass ? 'PASS' : 'FAIL'}  ${what} (target ${target})`).join('\n')}\n\nMarkdown (for the README):\n\n${markdown}\n\nJSON results: ${path.relative(process.cwd(), o.out)}\n`);
    return checks.every(([, , pass]) => pass) ? 0 : 1;
  } finally {
    await dispatcher.close().catch(() => undefined);
    await plane.stop();
  }
}

main().then((code) => process.exit(code), (err) => { process.stderr.write(`${err?.stack ?? err}\n`); process.exit(2); });
