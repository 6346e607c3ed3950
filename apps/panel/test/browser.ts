// Debian's Chromium driven by playwright-core for the panel's browser tests: launch it, open pages
// that record console errors and page errors (CSP violations included), and write screenshots.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KARVON_CHROMIUM ?? '/usr/bin/chromium';
export const PANEL_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
export const SHOTS = process.env.KARVON_PANEL_SCREENSHOTS ?? path.join(tmpdir(), 'karvon-panel-screenshots');

/** Checks Chromium and the built panel are there, makes the screenshots dir, launches headless. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run)`);
  if (!existsSync(path.join(PANEL_DIST, 'index.html'))) throw new Error('the panel is not built: npm run build');
  await mkdir(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
}

/**
 * A fresh context (no session) and page on `baseURL`. Console errors other than the API's expected
 * 4xx/503 answers, and uncaught page errors, are pushed to `problems`.
 */
export async function openPage(
  browser: Browser,
  baseURL: string,
  problems: string[],
  opts: { viewport?: { width: number; height: number }; permissions?: string[]; timeoutMs?: number } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 900 }, baseURL });
  if (opts.permissions) await context.grantPermissions(opts.permissions, { origin: baseURL });
  const page = await context.newPage();
  page.setDefaultTimeout(opts.timeoutMs ?? 15_000);
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (4\d\d|503)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { context, page };
}

/** A full-page screenshot as `<SHOTS>/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the login form and waits for the header to name the user. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('whoami').filter({ hasText: email }).waitFor();
}
