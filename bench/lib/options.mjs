// Benchmark options: parses argv (--duration, --only, ...) with BENCH_* environment fallbacks.
import path from 'node:path';

export const USAGE = `Usage: npm run bench:serve -- [options]     (or: node bench/serve.bench.mjs [options])

  --duration S        measured seconds per target           (env BENCH_DURATION, default 10)
  --warmup S          warm-up seconds per target            (env BENCH_WARMUP, default 2)
  --connections N     concurrent keep-alive connections     (env BENCH_CONNECTIONS, default 16)
  --only LIST         scenarios to run: python, js, js-cpu  (env BENCH_ONLY, default python,js)
  --rounds N          rounds (baseline then berth, fresh servers each); the median is reported
                                                            (env BENCH_ROUNDS, default 3)
  --quiet-wait S      before each target, wait up to S seconds for other processes to use less than
                      --quiet-limit % of a core (env BENCH_QUIET_WAIT, default 120; 0 = do not wait)
  --quiet-limit PCT   (env BENCH_QUIET_LIMIT, default 25)
  --noisy-retries N   measure a target again (up to N times) when other processes used > 20% of a core
                      during its measured window                (env BENCH_NOISY_RETRIES, default 2)
  --berth-workers N   berth serve --worker-count, Python    (env BENCH_BERTH_WORKERS, default 2; the JS scenario uses 1)
  --loadgen NAME      load generator: autocannon (Node) or wrk (C; Debian package wrk)
                                                            (env BENCH_LOADGEN, default autocannon)
  --wrk-threads N     wrk's threads                         (env BENCH_WRK_THREADS, default 1)
  --log-to DEST       where berth serve's log (one access line per request) goes: file (the bench's log
                      folder), null (/dev/null) or pipe (a pipe this process reads and drops)
                                                            (env BENCH_LOG_TO, default file)
  --python PATH       Python for berth workers and gunicorn (env BENCH_PYTHON, default /usr/bin/python3)
  --out FILE          JSON results                          (env BENCH_OUT, default bench/results/serve-latest.json)
  --cpu-prof          run the berth server under node --cpu-prof and print its top CPU costs
                      (profiles in bench/results/profiles/; adds profiling overhead, do not quote those figures)
  --quick             shorthand for --warmup 1 --duration 3 --rounds 1 (not a valid measurement, for trying things out)
  -h, --help          this text

Exit code: 0 when every target was measured and every check passed, 1 otherwise.`;

export function parseOptions(argv, env, repoRoot) {
  const o = {
    durationS: Number(env.BENCH_DURATION ?? 10),
    warmupS: Number(env.BENCH_WARMUP ?? 2),
    connections: Number(env.BENCH_CONNECTIONS ?? 16),
    only: (env.BENCH_ONLY ?? 'python,js').split(',').map((s) => s.trim()).filter(Boolean),
    berthWorkers: Number(env.BENCH_BERTH_WORKERS ?? 2),
    rounds: Number(env.BENCH_ROUNDS ?? 3),
    noisyRetries: Number(env.BENCH_NOISY_RETRIES ?? 2),
    quietWaitS: Number(env.BENCH_QUIET_WAIT ?? 120),
    quietLimitPct: Number(env.BENCH_QUIET_LIMIT ?? 25),
    python: env.BENCH_PYTHON ?? '/usr/bin/python3',
    out: env.BENCH_OUT ?? path.join(repoRoot, 'bench/results/serve-latest.json'),
    cpuProf: ['1', 'true'].includes(env.BENCH_CPU_PROF ?? ''),
    loadgen: env.BENCH_LOADGEN ?? 'autocannon',
    wrkThreads: Number(env.BENCH_WRK_THREADS ?? 1),
    logTo: env.BENCH_LOG_TO ?? 'file',
    help: false,
  };
  const args = [...argv];
  const value = (flag) => {
    const v = args.shift();
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  while (args.length) {
    let a = args.shift();
    if (a.startsWith('--') && a.includes('=')) {
      const i = a.indexOf('=');
      args.unshift(a.slice(i + 1));
      a = a.slice(0, i);
    }
    switch (a) {
      case '--duration': o.durationS = Number(value(a)); break;
      case '--warmup': o.warmupS = Number(value(a)); break;
      case '--connections': o.connections = Number(value(a)); break;
      case '--only': o.only = value(a).split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--rounds': o.rounds = Number(value(a)); break;
      case '--quiet-wait': o.quietWaitS = Number(value(a)); break;
      case '--noisy-retries': o.noisyRetries = Number(value(a)); break;
      case '--quiet-limit': o.quietLimitPct = Number(value(a)); break;
      case '--berth-workers': o.berthWorkers = Number(value(a)); break;
      case '--python': o.python = value(a); break;
      case '--out': o.out = path.resolve(value(a)); break;
      case '--cpu-prof': o.cpuProf = true; break;
      case '--loadgen': o.loadgen = value(a); break;
      case '--wrk-threads': o.wrkThreads = Number(value(a)); break;
      case '--log-to': o.logTo = value(a); break;
      case '--quick': o.warmupS = 1; o.durationS = 3; o.rounds = 1; break;
      case '-h': case '--help': o.help = true; break;
      default: throw new Error(`unknown option ${a}\n\n${USAGE}`);
    }
  }
  if (!['autocannon', 'wrk'].includes(o.loadgen)) throw new Error(`--loadgen must be autocannon or wrk, not "${o.loadgen}"`);
  if (!['file', 'null', 'pipe'].includes(o.logTo)) throw new Error(`--log-to must be file, null or pipe, not "${o.logTo}"`);
  for (const [k, min] of [['wrkThreads', 1], ['durationS', 1], ['warmupS', 0], ['connections', 1], ['berthWorkers', 1], ['rounds', 1], ['noisyRetries', 0], ['quietWaitS', 0], ['quietLimitPct', 0]]) {
    if (!Number.isFinite(o[k]) || o[k] < min) throw new Error(`invalid ${k}: ${o[k]}`);
  }
  const known = ['python', 'js', 'js-cpu'];
  for (const s of o.only) if (!known.includes(s)) throw new Error(`--only: unknown scenario "${s}" (known: ${known.join(', ')})`);
  return o;
}
