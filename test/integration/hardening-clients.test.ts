// Hostile and unlucky clients: a stalled body holds no replica or worker and gets 408; oversized bodies are 413 through the gateway, every time; replicas answer only the gateway.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane, until } from '../helpers/services.js';
import { post, startServe } from '../helpers/serve-process.js';
import { rawConnection, slowBodyStart, uploadBody } from '../helpers/raw-http.js';

after(cleanup);

const SUM = JSON.stringify({ data: [[1, 2, 3]] });

test('berth serve: a stalled body gets 408 after --body-timeout-s while other requests are served; a silent connection is closed', async (t) => {
  const server = await startServe(['--entry-script', fixture('sum_score.py'), '--body-timeout-s', '1']);
  t.after(() => server.stop());
  const stalled = rawConnection(server.url, slowBodyStart('/score', 2 * 1024 * 1024));
  const silent = rawConnection(server.url, '');
  // While the stalled body is open, the one worker answers everyone else.
  for (let i = 0; i < 5; i++) assert.equal((await post(`${server.url}/score`, SUM)).status, 200);
  const [a, s] = await Promise.all([stalled.answer, silent.answer]);
  assert.equal(a.status, 408);
  assert.equal((JSON.parse(a.body) as { code: string }).code, 'REQUEST_BODY_TIMEOUT');
  assert.match(a.body, /did not arrive within 1 s/);
  assert.ok(a.closedAfterMs < 10_000, `408 came after ${a.closedAfterMs.toFixed(0)} ms`);
  assert.ok(s.closedAfterMs < 10_000, `the silent connection closed after ${s.closedAfterMs.toFixed(0)} ms`);
  assert.equal((await post(`${server.url}/score`, SUM)).status, 200);
});

test('gateway: a stalled 2 MiB body holds no replica slot (others get 200, not 503) and gets 408 within the body timeout', async (t) => {
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8', '--body-timeout', '2s']);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'summer', '--source-dir', fixture('.'), '--entry-script', 'sum_score.py', '--no-auth', '--replicas', '1', '--max-concurrent-requests', '1', '--max-request-wait-ms', '200']);
  const uri = `${plane.url}/api/v1/service/summer/score`;
  const stalled = [1, 2].map(() => rawConnection(plane.url, slowBodyStart('/api/v1/service/summer/score', 2 * 1024 * 1024)));
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await fetch(uri, { method: 'POST', body: SUM })).status);
  assert.deepEqual(statuses, Array(10).fill(200));
  for (const { answer } of stalled) {
    const a = await answer;
    assert.equal(a.status, 408);
    assert.equal((JSON.parse(a.body) as { code: string }).code, 'REQUEST_BODY_TIMEOUT');
    assert.ok(a.closedAfterMs < 15_000, `408 after ${a.closedAfterMs.toFixed(0)} ms`);
  }
});

test('gateway: bodies over the limit get 413 from the gateway, 20 times in a row, chunked and with Content-Length', async (t) => {
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8', '--max-request-size-mb', '1']);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'summer', '--source-dir', fixture('.'), '--entry-script', 'sum_score.py', '--no-auth', '--replicas', '1']);
  const uri = `${plane.url}/api/v1/service/summer/score`;
  for (const mode of ['length', 'chunked'] as const) {
    for (let i = 0; i < 20; i++) {
      const r = await uploadBody(uri, 8 * 1024 * 1024, mode);
      assert.equal(r.status, 413, `${mode} #${i + 1}: ${r.body}`);
      const body = JSON.parse(r.body) as { code: string; message: string };
      assert.equal(body.code, 'BODY_TOO_LARGE');
      assert.match(body.message, /limit of 1048576 bytes/);
    }
  }
  // Just under the limit still goes through (and the replica, started with the same limit, takes it).
  const rows = JSON.stringify({ data: [[1]], pad: 'x'.repeat(1024 * 1024 - 100) });
  assert.equal((await fetch(uri, { method: 'POST', body: rows })).status, 200);
});

test('a replica answers /score and its scoring channel only to the gateway; the key never reaches the entry script', async (t) => {
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8']);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'headers', '--source-dir', fixture('.'), '--entry-script', 'visible_score.py', '--no-auth', '--replicas', '1']);
  const replica = await until(async () => (await plane.show('headers')).replicas[0]?.url, 10_000, 'the replica address');
  const direct = await fetch(`${replica}/score`, { method: 'POST', body: '{}' });
  assert.equal(direct.status, 401);
  assert.equal(((await direct.json()) as { code: string }).code, 'REPLICA_UNAUTHORIZED');
  const guessed = await fetch(`${replica}/score`, { method: 'POST', body: '{}', headers: { 'x-berth-replica-key': 'a'.repeat(43) } });
  assert.equal(guessed.status, 401);
  const upgrade = rawConnection(replica, 'GET /.berth/score-channel HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: berth-score-1\r\n\r\n');
  assert.equal((await upgrade.answer).status, 401);
  // Probes stay open.
  assert.equal((await fetch(`${replica}/ready`)).status, 200);
  assert.equal((await fetch(replica)).status, 200);
  // Through the gateway it works, and neither the key header nor the key's variable is visible to run().
  const through = await fetch(`${plane.url}/api/v1/service/headers/score`, { method: 'POST', body: '{}', headers: { 'x-berth-replica-key': 'client-sent' } });
  assert.equal(through.status, 200);
  const seen = (await through.json()) as { headers: string[]; berth_env: string[] };
  assert.ok(!seen.headers.includes('x-berth-replica-key'), `headers seen: ${seen.headers.join(', ')}`);
  assert.ok(!seen.berth_env.includes('BERTH_REPLICA_KEY'), `variables seen: ${seen.berth_env.join(', ')}`);
});
