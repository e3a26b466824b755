// Benchmark helper: a berth control plane in a temporary home (foreground child, cleaned up on exit), and the CLI against it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, HOST, pollUntil } from './http.mjs';
import { startProcess, tailFile } from './procs.mjs';

/** Starts `berth up` with `flags` (and `extraEnv` over this process's environment) on a free 127.0.0.1 port; resolves { url, home, cli(args), stop() } once its API answers. */
export async function startPlane(repoRoot, logDir, flags = [], extraEnv = {}) {
  const berthBin = path.join(repoRoot, 'bin/berth.js');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const logFile = path.join(logDir, 'control-plane.log');
  fs.writeFileSync(logFile, '');
  const env = { ...process.env, ...extraEnv, BERTH_HOME: home, BERTH_SERVER: url };
  // PLANE_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR" or "--trace-gc") goes to the control plane's node, for profiling it.
  const proc = startProcess(process.execPath, [...(process.env.PLANE_NODE_ARGS ? process.env.PLANE_NODE_ARGS.split(' ') : []), berthBin, 'up', '--port', String(port), '--host', HOST, '--home', home, ...flags], { cwd: repoRoot, env, logFile });
  await pollUntil(async () => (await fetch(`${url}/v1/status`)).ok, {
    timeoutMs: 30_000, what: 'control plane', abort: () => (proc.exitInfo ? `exited; log:\n${tailFile(logFile)}` : null),
  });
  const cli = (args) => new Promise((resolve, reject) => {
    execFile(process.execPath, [berthBin, ...args], { env, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`berth ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
  const api = async (p) => (await fetch(`${url}${p}`)).json();
  return {
    url, home, logFile, cli, api, pid: proc.pid,
    async stop() {
      await proc.stop(60_000);
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
