// For dashboard tests in a real browser: Debian's chromium driven by playwright-core; skipped without it unless BERTH_TEST_BROWSER=1.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './control-plane.js';

export const CHROMIUM = process.env.BERTH_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** CI sets BERTH_TEST_BROWSER=1 (and installs chromium): then a missing browser fails the tests instead of skipping them. */
export const browserRequired = process.env.BERTH_TEST_BROWSER === '1';

/** The `skip` option for browser tests: a reason when chromium is missing and not required, else false. */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM) || browserRequired) return false;
  return `no chromium at ${CHROMIUM} (apt-get install chromium; set BERTH_TEST_BROWSER=1 to make this a failure)`;
}

/**
 * Headless chromium with a fresh profile (playwright makes a temporary user-data dir per launch). Without the
 * background-networking flags chromium tries to reach Google's servers at start; QUIC and sync likewise.
 */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A page that fails the test on any script error or CSP violation (collected, read with errors()). */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: () => string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Uncaught/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return { page, errors: () => errors };
}

/** Saves a full-page screenshot as test-results/NAME.png (not committed), for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  // From the top: a page scrolled by the test would show its sticky navigation bar in the middle of the capture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Milliseconds from the start of navigation to the services table's first render with the plane's services (the page marks it). */
export async function usable(page: Page): Promise<number> {
  await page.waitForFunction(() => performance.getEntriesByName('berth:services-usable').length > 0);
  return page.evaluate(() => performance.getEntriesByName('berth:services-usable')[0]!.startTime);
}
