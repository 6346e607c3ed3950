// The web panel in a real browser: Debian's Chromium driven by playwright-core against a test
// control plane that serves the built panel (the global setup builds it with scripts/build.mjs).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, TEST_ADMIN, type TestControlPlane } from '../../../test/control-plane';
import { creditWallet, ensureCatalog, TEST_FUNDS } from '../../../test/customers';
import { eventually } from '../../../test/eventually';

const CHROMIUM = process.env.KARVON_CHROMIUM ?? '/usr/bin/chromium';
const PANEL_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const SHOTS = process.env.KARVON_PANEL_SCREENSHOTS ?? path.join(tmpdir(), 'karvon-panel-screenshots');
const REGION = 'panel-test';
const PASSWORD = 'panel-password-123';

describe('web panel in Chromium', () => {
  let cp: TestControlPlane;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** console errors and CSP reports the page produced */
  const problems: string[] = [];
  const email = `panel-${process.pid}-${Date.now()}@example.test`;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run)`);
    if (!existsSync(path.join(PANEL_DIST, 'index.html'))) throw new Error('the panel is not built: npm run build');
    await mkdir(SHOTS, { recursive: true });
    cp = await startTestControlPlane();
    await ensureCatalog(await cp.adminClient(), REGION);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  });

  afterAll(async () => {
    await browser?.close();
    await cp?.stop();
  });

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    await context?.close();
    context = await browser.newContext({ viewport, baseURL: cp.url });
    const p = await context.newPage();
    p.setDefaultTimeout(15_000);
    p.on('console', (m) => {
      if (m.type() === 'error' && !/status of (4\d\d|503)/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    return p;
  }

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  async function signIn(who: string, password: string) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(who);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('whoami').filter({ hasText: who }).waitFor();
  }

  it('serves the panel for its own paths and keeps the API 404s', async () => {
    const root = await fetch(`${cp.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toContain('text/html');
    expect(root.headers.get('content-security-policy')).toContain("script-src 'self'");
    const deep = await fetch(`${cp.url}/apps/some-id/env`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    const api = await fetch(`${cp.url}/api/v1/nope`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    expect((await fetch(`${cp.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${cp.url}/agent/unknown`)).status).toBe(404);
    expect((await fetch(`${cp.url}/robots.txt`)).status).toBe(404);
  });

  it('a customer signs up, creates a project and an app, sets env vars and deploys', async () => {
    page = await newPage();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('link', { name: 'Create an account' }).click();

    // Bad input: the API's field error is shown next to the field it names.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const passwordError = page.locator('.field', { has: page.getByLabel('Password') }).locator('.field-error');
    await passwordError.waitFor();
    expect(await passwordError.textContent()).toMatch(/10/);
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    await page.getByRole('alert').filter({ hasText: 'VALIDATION_FAILED' }).first().waitFor();
    await shot('signup-error');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
    expect(await page.getByTestId('whoami').textContent()).toContain(email);

    // Billing is prepaid: the operator credits the new customer.
    const login = await cp.api.login(email, PASSWORD);
    expect(login.status).toBe(200);
    await creditWallet(cp.api, await cp.adminClient(), login.body.user.id, TEST_FUNDS);

    // Project
    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByLabel('Project name').fill('Bad Name');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.locator('.field', { has: page.getByLabel('Project name') }).locator('.field-error').waitFor();
    await page.getByLabel('Project name').fill('web');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('cell', { name: 'web', exact: true }).waitFor();

    // App from an image; a bad name first
    await page.getByRole('link', { name: 'New app' }).first().click();
    await page.getByRole('heading', { name: 'New app' }).waitFor();
    await page.getByLabel('Region').locator(`option[value="${REGION}"]`).waitFor({ state: 'attached' });
    await page.getByLabel('Region').selectOption(REGION);
    await page.getByLabel('Plan').locator('option[value="small"]').waitFor({ state: 'attached' });
    await page.getByLabel('App name').fill('Bad_Name');
    await page.getByLabel('Image', { exact: true }).fill('nginx:alpine');
    await page.getByRole('button', { name: 'Create app' }).click();
    const nameError = page.locator('.field', { has: page.getByLabel('App name') }).locator('.field-error');
    await nameError.waitFor();
    expect(await nameError.textContent()).toBeTruthy();
    await shot('new-app-error');
    await page.getByLabel('App name').fill('hello');
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { name: 'hello', exact: true }).waitFor();
    expect(await page.getByTestId('hostname').textContent()).toContain('hello');

    // The list shows it with its status, and opens it
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    const row = page.locator('tr[data-app="hello"]');
    await row.waitFor();
    expect(await row.locator('.status').textContent()).toMatch(/created|deploying|running|failed|stopped/);
    await shot('apps');
    await row.getByRole('link', { name: 'hello' }).click();
    await page.getByRole('heading', { name: 'hello', exact: true }).waitFor();

    // Env: a plain value (markup shown as text) and a secret that is never shown again
    await page.getByRole('link', { name: 'Environment' }).click();
    const setVar = async (key: string, value: string, secret: boolean) => {
      await page.getByLabel('Name', { exact: true }).fill(key);
      await page.getByLabel('Value', { exact: true }).fill(value);
      if (secret) await page.getByLabel('Secret', { exact: true }).check();
      await page.getByRole('button', { name: 'Save variable' }).click();
      await page.locator(`tr[data-env="${key}"]`).waitFor();
    };
    await setVar('GREETING', '<b id="xss">hi</b>', false);
    await setVar('API_TOKEN', 's3cr3t-value-42', true);
    expect(await page.locator('tr[data-env="GREETING"]').textContent()).toContain('<b id="xss">hi</b>');
    expect(await page.locator('#xss').count()).toBe(0);
    expect(await page.locator('tr[data-env="API_TOKEN"]').textContent()).toContain('secret, hidden');
    await page.reload();
    await page.locator('tr[data-env="API_TOKEN"]').waitFor();
    expect(await page.content()).not.toContain('s3cr3t-value-42');
    await shot('env');

    // Deploy: the record appears with a status (no node in this region, so it will not succeed)
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByRole('heading', { name: /^Deploy dep/ }).waitFor();
    const deployRow = page.locator('tr[data-deploy]').first();
    await deployRow.waitFor();
    expect(await deployRow.locator('.status').textContent()).toMatch(/^(queued|building|releasing|succeeded|failed|cancelled)$/);
    await shot('deploys');

    // Other app sections render without errors
    for (const tab of ['Releases', 'Logs', 'Metrics', 'Domains', 'Webhook']) {
      await page.getByRole('link', { name: tab, exact: true }).click();
      await page.getByRole('heading', { level: 2 }).first().waitFor();
    }
    // An image app has no push webhook: the API's CONFLICT is shown as it came.
    await page.getByRole('alert').filter({ hasText: 'CONFLICT' }).waitFor();

    // Wallet
    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: 'Wallet' }).waitFor();
    await page.getByTestId('balance').waitFor();

    // Admin pages are not for customers: the API answers 403 and the panel says so
    expect(await page.getByRole('link', { name: 'Nodes' }).count()).toBe(0);
    await page.goto('/admin/nodes');
    await page.getByRole('alert').filter({ hasText: 'FORBIDDEN' }).waitFor();
    await shot('customer-admin-forbidden');

    // A phone-width layout: the menu collapses behind a button
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/apps');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Projects' }).waitFor();
    await shot('apps-mobile');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('an admin sees the nodes page and creates a node token with its install command', async () => {
    page = await newPage();
    await signIn(TEST_ADMIN.email, TEST_ADMIN.password);
    await page.getByRole('link', { name: 'Nodes' }).click();
    await page.getByRole('heading', { name: 'Nodes', exact: true }).waitFor();
    await page.getByLabel('Region', { exact: true }).locator(`option[value="${REGION}"]`).waitFor({ state: 'attached' });
    await page.getByLabel('Region', { exact: true }).selectOption(REGION);
    await page.getByRole('button', { name: 'Create token' }).click();
    const command = page.getByTestId('install-command');
    await command.waitFor();
    expect(await command.textContent()).toMatch(/karvon-agent|register|token/i);
    await shot('admin-nodes');

    await page.getByRole('link', { name: 'Capacity' }).click();
    await page.getByRole('heading', { name: 'Capacity' }).waitFor();
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByRole('cell', { name: 'small', exact: true }).waitFor();
    await shot('admin-catalog');

    expect(problems).toEqual([]);
  });

  it('reload keeps the session (refresh token in sessionStorage), nothing in localStorage', async () => {
    await page.goto('/admin/capacity');
    await page.getByRole('heading', { name: 'Capacity' }).waitFor();
    const stored = await page.evaluate<{ local: number; session: string[] }>('({ local: localStorage.length, session: Object.keys(sessionStorage) })');
    expect(stored.local).toBe(0);
    expect(stored.session).toEqual(['karvon.refreshToken']);
    await eventually(async () => expect(await page.getByTestId('whoami').textContent()).toContain(TEST_ADMIN.email));
  });
});
