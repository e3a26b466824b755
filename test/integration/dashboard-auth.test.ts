// Off loopback the dashboard needs the admin token: the API and the page refuse without it and work with it; it never travels in a URL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, tempDir } from '../helpers/control-plane.js';
import { startPlane, stopPlane } from '../helpers/services.js';
import { browserSkip, launch, openPage, screenshot } from '../helpers/browser.js';

after(cleanup);

const TOKEN = 'dashboard-test-token-0123456789abcdef';

test('with --host 0.0.0.0 --admin-token-file the API and the page refuse without the token and work with it', { skip: browserSkip() }, async (t) => {
  const dir = tempDir('berth-ui-token-');
  const file = join(dir, 'token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  // Bound to every interface; the test only ever talks to it over 127.0.0.1 (the URL berth up prints).
  const plane = await startPlane(['--host', '0.0.0.0', '--admin-token-file', file, '--capacity', 'cpu=2,memory_gb=4,gpu=0']);
  t.after(() => stopPlane(plane));
  assert.match(plane.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  // The API: 401 without the token (stream and data routes alike), 200 with it; the static page is open.
  for (const path of ['/v1/services', '/v1/dashboard/stream', '/v1/dashboard/models', '/v1/dashboard/operations']) {
    const res = await fetch(plane.url + path, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 401, path);
    assert.equal(((await res.json()) as { code: string }).code, 'ADMIN_UNAUTHORIZED');
  }
  const authed = await fetch(`${plane.url}/v1/services`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(authed.status, 200);
  const page404 = await fetch(`${plane.url}/ui/`);
  assert.equal(page404.status, 200, 'the page itself (no secret in it) loads without the token, so it can ask for one');

  const browser = await launch();
  t.after(() => browser.close());
  const { page, errors } = await openPage(browser);
  const seen: { url: string; auth: string | undefined }[] = [];
  page.on('request', (r) => seen.push({ url: r.url(), auth: r.headers().authorization }));
  await page.goto(`${plane.url}/ui/`);
  const prompt = page.locator('.modal');
  await prompt.waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('[data-testid="connection"]').innerText(), 'admin token needed');
  await screenshot(page, 'dashboard-token-prompt');

  // A wrong token is refused, and the prompt says so.
  await prompt.locator('input[name="token"]').fill('not-the-right-token-at-all');
  await prompt.locator('button[type="submit"]').click();
  await page.locator('.modal [role="alert"]').waitFor({ timeout: 10_000 });
  assert.match(await page.locator('.modal [role="alert"]').innerText(), /refused/);

  // The right one unlocks the page: the live stream connects and the (empty) services list shows.
  await page.locator('.modal input[name="token"]').fill(TOKEN);
  await page.locator('.modal button[type="submit"]').click();
  await page.getByText('No services yet').waitFor({ timeout: 10_000 });
  await page.locator('[data-testid="connection"]').getByText('live').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('.modal').count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('berth.adminToken')), TOKEN, 'kept for the session');
  // Another page of the dashboard works with the kept token, without asking again.
  await page.locator('nav a', { hasText: 'Operations' }).click();
  await page.getByText('No operations yet').waitFor({ timeout: 10_000 });
  await screenshot(page, 'dashboard-token-unlocked');

  assert.ok(seen.every((r) => !r.url.includes(TOKEN) && !r.url.includes(encodeURIComponent(TOKEN))), 'the token is never in a URL');
  const streams = seen.filter((r) => r.url.endsWith('/v1/dashboard/stream'));
  assert.ok(streams.some((r) => r.auth === `Bearer ${TOKEN}`), 'the live stream sends it as a Bearer header');
  assert.ok(seen.filter((r) => new URL(r.url).pathname.startsWith('/ui/')).every((r) => r.auth === undefined), 'the page\'s files are fetched without it');
  assert.deepEqual(errors(), []);
});
