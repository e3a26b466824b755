// berth serve end to end with a real scikit-learn model: trained by a fixture, mounted in the classic layout, scored over HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, post, startServe, type ServeProcess } from '../helpers/serve-process.js';

// Debian's python3-sklearn lives under the system interpreter, not whatever python3 is first on PATH.
const SYSTEM_PYTHON = '/usr/bin/python3';

describe('berth serve with a scikit-learn model', () => {
  let root: string;
  let server: ServeProcess;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-sklearn-'));
    const modelDir = join(root, 'azureml-models', 'iris', '1');
    execFileSync(SYSTEM_PYTHON, [fixture('sklearn_train.py'), modelDir], { timeout: 60_000 });
    server = await startServe(['--entry-script', fixture('sklearn_score.py'), '--model-dir', modelDir, '--python', SYSTEM_PYTHON, '--worker-count', '2']);
  });
  after(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('predicts iris classes for a batch', async () => {
    const res = await post(`${server.url}/score`, JSON.stringify({ data: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] }));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { predictions: [0, 2] });
  });

  test('a batch with the wrong feature count is a 500 whose traceback names the cause', async () => {
    const res = await post(`${server.url}/score`, JSON.stringify({ data: [[1, 2]] }), { 'x-request-id': 'bad-shape' });
    assert.equal(res.status, 500);
    const line = await server.waitForLog((l) => l.request_id === 'bad-shape' && typeof l.traceback === 'string');
    assert.match(String(line.traceback), /feature/);
  });
});
