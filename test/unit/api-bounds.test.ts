// The REST API over real HTTP refuses out-of-range durations and unusable paths at the edge: 400 VALIDATION_FAILED
// naming the field, before any deployment starts or any interpreter is run (these used to be accepted, or a 500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { inProcessPlane } from '../helpers/in-process-plane.js';

const { home, plane: running } = inProcessPlane('berth-api-bounds-');

async function call(method: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(running().url + path, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function assertRefused(r: { status: number; json: Record<string, unknown> }, field: string, detail: RegExp): void {
  assert.equal(r.status, 400, JSON.stringify(r.json));
  assert.equal(r.json.code, 'VALIDATION_FAILED');
  assert.match(String(r.json.message), new RegExp(`^invalid ${field.replace(/\./g, '\\.')}: `));
  assert.match(String(r.json.message), detail);
}

test('POST /v1/services with a duration past what a timer holds is 400 naming the field', async () => {
  const base = { name: 'bounded', entry_script: join(home, 'score.py') };
  assertRefused(await call('POST', '/v1/services', { ...base, scoring_timeout_ms: 3_000_000_000 }), 'scoring_timeout_ms', /at most 2147483647 ms/);
  assertRefused(await call('POST', '/v1/services', { ...base, max_request_wait_time: 2_147_483_648 }), 'max_request_wait_time', /at most 2147483647 ms/);
  assertRefused(await call('POST', '/v1/services', { ...base, period_seconds: 2_147_484 }), 'period_seconds', /at most 2147483 s/);
  assertRefused(await call('POST', '/v1/services', { ...base, timeout_seconds: 3_000_000 }), 'timeout_seconds', /at most 2147483 s/);
  assertRefused(await call('POST', '/v1/services', { ...base, autoscale_refresh_seconds: 2_147_484 }), 'autoscale_refresh_seconds', /at most 2147483 s/);
});

test('PATCH /v1/services/NAME with a duration past the bound is 400 naming the field', async () => {
  assertRefused(await call('PATCH', '/v1/services/bounded', { scoring_timeout_ms: 3_000_000_000 }), 'scoring_timeout_ms', /at most/);
});

test('POST /v1/services with a NUL byte in entry_script is 400 naming it', async () => {
  assertRefused(await call('POST', '/v1/services', { name: 'nul-path', entry_script: '/srv/score.py\0' }), 'entry_script', /NUL/);
});

test('POST /v1/environments with a NUL byte or 1,000 emoji in python is 400 naming python', async () => {
  assertRefused(await call('POST', '/v1/environments', { name: 'nul-python', python: '/usr/bin/python3\0' }), 'python', /NUL/);
  assertRefused(await call('POST', '/v1/environments', { name: 'long-python', python: '😀'.repeat(1000) }), 'python', /at most 255/);
  assertRefused(await call('POST', '/v1/environments', { name: 'nul-base', base_dir: '/srv\0' }), 'base_dir', /NUL/);
});
