// Benchmark helper: how long `berth deploy` onto a running control plane takes until the first 200 through the gateway.
import { spawn } from 'node:child_process';
import { trackChild } from './procs.mjs';

/**
 * Runs `berth deploy` for `name` (no auth, so a client can score it before the command prints a key) and, from the same
 * moment, a client that posts to the scoring URI every few milliseconds. Resolves { firstOkMs, cliMs }: when the first
 * 200 came back, and when the command exited (it must exit 0).
 */
export async function timeDeploy({ berthBin, env, planeUrl, name, entryScript, sourceDir, body }) {
  const uri = `${planeUrl}/api/v1/service/${name}/score`;
  const t0 = performance.now();
  const cli = spawn(process.execPath, [berthBin, 'deploy', '--name', name, '--entry-script', entryScript, '--source-dir', sourceDir, '--no-auth'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(cli);
  let output = '';
  cli.stdout.on('data', (d) => { output += d; });
  cli.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve, reject) => cli.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`berth deploy ${name} exited ${code}: ${output.trim()}`)))));
  let done = false;
  const firstOk = (async () => {
    // 404 until the service exists, 503 until its replica is ready: the first 200 is when a user would be served.
    while (!done) {
      try {
        const r = await fetch(uri, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await r.arrayBuffer();
        if (r.status === 200) return performance.now() - t0;
      } catch {
        // the control plane is busy accepting: try again
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return null;
  })();
  try {
    const cliMs = await exited;
    const firstOkMs = await Promise.race([firstOk, new Promise((r) => setTimeout(() => r(null), 10_000))]);
    if (firstOkMs === null) throw new Error(`no 200 from ${uri} within 10 s of berth deploy ${name} returning`);
    return { firstOkMs: +firstOkMs.toFixed(0), cliMs: +cliMs.toFixed(0) };
  } finally {
    done = true;
  }
}
