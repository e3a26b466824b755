// berth quickstart: the README's first command — starts the control plane, registers, deploys, scores; and works a second time.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { berthBin } from '../helpers/serve-process.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'berth-quickstart-'));
const env = { ...process.env, BERTH_HOME: home, BERTH_SERVER: '' };

async function berth(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [berthBin, ...args], { env, timeout: 120_000 });
  return stdout;
}

after(async () => {
  await berth('down').catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

test('quickstart deploys the example model and scores it through the service, and running it twice works', async () => {
  const first = await berth('quickstart', '--port', '0');
  assert.match(first, /\$ berth up --detach/);
  assert.match(first, /\$ berth model register --name quickstart-iris/);
  assert.match(first, /service quickstart is Healthy/);
  assert.match(first, /\{"predictions": \["setosa", "virginica"\]\}/);
  assert.match(first, /Next, try:/);

  const second = await berth('quickstart');
  assert.match(second, /running already/);
  assert.match(second, /quickstart-iris:1 is registered already/);
  assert.match(second, /deployed and Healthy already/);
  assert.match(second, /\{"predictions": \["setosa", "virginica"\]\}/);

  const list = JSON.parse(await berth('model', 'list', '-o', 'json')) as unknown[];
  assert.equal(list.length, 1, 'the second run registers nothing new');
});
