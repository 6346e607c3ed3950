// The web panel in a real browser: Debian's Chromium driven by playwright-core against a test
// control plane that serves the built panel (the global setup builds it with scripts/build.mjs).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, TEST_ADMIN, type TestControlPlane } from '../../../test/control-plane';
import { creditWallet, ensureCatalog, TEST_FUNDS } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { launchBrowser, openPage, screenshot, signIn as signInAs } from './browser';

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
    cp = await startTestControlPlane();
    await ensureCatalog(await cp.adminClient(), REGION);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await cp?.stop();
  });

  async function newPage(): Promise<Page> {
    await context?.close();
    const opened = await openPage(browser, cp.url, problems);
    context = opened.context;
    return opened.page;
  }

  const shot = (name: string) => screenshot(page, name);
  const signIn = (who: string, password: string) => signInAs(page, who, password);

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

  it('an admin credits a wallet on the Credit page (field errors, nothing stored on bad input); the customer sees it, its note as text', async () => {
    const login = await cp.api.login(email, PASSWORD);
    expect(login.status).toBe(200);
    const userId = login.body.user.id;
    const customerApi = cp.api.as(login.body.accessToken);
    const transactions = async () => (await customerApi.get<{ items: Array<{ type: string; amount: number; note?: string }> }>('/api/v1/billing/transactions')).body.items;
    const before = await transactions();

    page = await newPage();
    await signIn(TEST_ADMIN.email, TEST_ADMIN.password);
    await page.getByRole('link', { name: 'Credit' }).click();
    await page.getByRole('heading', { name: 'Credit a wallet' }).waitFor();
    const field = (label: string) => page.locator('.field', { has: page.getByLabel(label, { exact: true }) }).locator('.field-error');
    const credit = async (user: string, amount: string, note = '') => {
      await page.getByLabel('User id').fill(user);
      await page.getByLabel('Amount (minor units)').fill(amount);
      await page.getByLabel('Note').fill(note);
      await page.getByRole('button', { name: 'Credit', exact: true }).click();
    };

    // Bad input: the API's field errors under the fields they name, and nothing is booked.
    await credit(userId, '-5');
    await field('Amount (minor units)').waitFor();
    expect(await page.getByLabel('Amount (minor units)').getAttribute('aria-invalid')).toBe('true');
    await page.getByRole('alert').filter({ hasText: 'VALIDATION_FAILED' }).first().waitFor();
    await credit('not-a-user', '2500');
    await field('User id').waitFor();
    await credit(`usr_${'z'.repeat(20)}`, '2500');
    await page.getByRole('alert').filter({ hasText: 'NOT_FOUND' }).waitFor();
    expect(await transactions()).toEqual(before);
    await shot('admin-credit-error');

    // A credit with markup in its note.
    await credit(userId, '250000', '<img src="x" id="xss-note">paid in cash');
    await page.getByRole('status').filter({ hasText: 'Credited' }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    const after = await transactions();
    expect(after).toHaveLength(before.length + 1);
    expect(after[0]).toMatchObject({ type: 'topup', amount: 250000, note: '<img src="x" id="xss-note">paid in cash' });
    await shot('admin-credit');

    // The customer's wallet lists it, the note as text.
    page = await newPage();
    await signIn(email, PASSWORD);
    await page.getByRole('link', { name: 'Billing' }).click();
    const row = page.getByRole('table', { name: 'Transactions' }).locator('tbody tr', { hasText: 'paid in cash' });
    await row.waitFor();
    expect(await row.textContent()).toContain('<img src="x" id="xss-note">paid in cash');
    expect(await page.locator('#xss-note').count()).toBe(0);
    expect(await row.locator('td').nth(1).textContent()).toBe('topup');
    await shot('billing');
    expect(problems).toEqual([]);
  });

  it('an admin finds a customer with their balance on Customers, credits them from there, and reads the Audit log (markup as text)', async () => {
    // An email the API accepts with markup-ish characters (a quote and a plus); markup itself is
    // not a valid email, so it reaches the audit log through a refused sign-in instead.
    const quoted = `o'brien+${process.pid}.${Date.now()}@example.test`;
    const registered = await cp.api.register(quoted, PASSWORD);
    expect(registered.status).toBe(201);
    const userId = registered.body.user.id;
    const adminApi = await cp.adminClient();
    // Enough admin calls that the sign-up is off the audit log's first page (50 rows).
    for (let i = 0; i < 55; i++) expect((await adminApi.patch(`/api/v1/admin/users/${userId}`, { tier: 'free' })).status).toBe(200);
    await creditWallet(cp.api, adminApi, userId, 250_000);
    const markup = '<img src=x id="xss-audit">@example.test';
    expect((await cp.api.login(markup, 'wrong-password-123')).status).toBe(401);
    const formatted = (minor: number) =>
      page.evaluate<string>(`(() => { const f = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'UZS' }); return f.format(${minor} / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2)); })()`);

    page = await newPage();
    await signIn(TEST_ADMIN.email, TEST_ADMIN.password);
    await page.getByRole('link', { name: 'Customers', exact: true }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    // LIKE wildcards are searched for literally
    await page.getByLabel('Email contains').fill('_brien+');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No user’s email contains that.').waitFor();
    await page.getByLabel('Email contains').fill(`O'BRIEN+${process.pid}`);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator(`tr[data-user="${userId}"]`);
    await row.waitFor();
    expect(await page.locator('tr[data-user]').count()).toBe(1);
    expect(await row.locator('td').first().textContent()).toContain(quoted);
    expect(await row.getByTestId('user-balance').textContent()).toBe(await formatted(250_000));
    await shot('admin-customers');

    // "Credit" opens the credit form for this customer
    await row.getByRole('link', { name: `Credit wallet of ${quoted}`, exact: true }).click();
    await page.getByRole('heading', { name: 'Credit a wallet' }).waitFor();
    expect(await page.getByLabel('User id').inputValue()).toBe(userId);
    await page.getByLabel('Amount (minor units)').fill('1000');
    await page.getByRole('button', { name: 'Credit', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Credited' }).waitFor();
    await page.getByRole('link', { name: 'Customers', exact: true }).click();
    await page.getByLabel('Email contains').fill(quoted);
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(async () => expect(await page.locator(`tr[data-user="${userId}"]`).getByTestId('user-balance').textContent()).toBe(await formatted(251_000)), 15_000);

    // The audit log, newest first: the credit just made on top, the refused sign-in's markup as text
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const audit = page.getByRole('table', { name: 'Audit log' });
    const auditRow = (action: string, target: string) => audit.locator('tbody tr').filter({ has: page.getByRole('cell', { name: action, exact: true }) }).filter({ has: page.getByRole('cell', { name: target, exact: true }) });
    await auditRow('wallet.credit', `user:${userId}`).first().waitFor();
    expect(await auditRow('wallet.credit', `user:${userId}`).count()).toBe(2);
    expect(await auditRow('wallet.credit', `user:${userId}`).first().locator('td').nth(1).textContent()).toContain(TEST_ADMIN.email);
    const refused = auditRow('auth.login', `email:${markup}`);
    await refused.waitFor();
    // newest first: the credit made on the page, then the refused sign-in, then the API credit
    const rows = await audit.locator('tbody tr').allTextContents();
    const firstIndex = (text: string) => rows.findIndex((r) => r.includes(text));
    expect(firstIndex('wallet.credit')).toBeLessThan(firstIndex(`email:${markup}`));
    expect(rows.findLastIndex((r) => r.includes('wallet.credit'))).toBeGreaterThan(firstIndex(`email:${markup}`));
    expect(await refused.locator('td').nth(4).textContent()).toBe('401');
    expect(await page.locator('#xss-audit').count()).toBe(0);
    expect(await page.locator('tbody img').count()).toBe(0);
    // the sign-up is on the second page
    const signUp = auditRow('auth.register', `user:${userId}`);
    expect(await signUp.count()).toBe(0);
    await page.getByRole('button', { name: 'Load more' }).click();
    await signUp.waitFor();
    expect(await signUp.locator('td').nth(1).textContent()).toContain(quoted);
    expect(await auditRow('user.update', `user:${userId}`).count()).toBe(55);
    await shot('admin-audit');

    // A filter the API refuses is shown under its field; a good one narrows the table
    await page.getByLabel('Action starts with').fill('auth.%');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('.field', { has: page.getByLabel('Action starts with') }).locator('.field-error').waitFor();
    await page.getByLabel('Action starts with').fill('auth.register');
    await page.getByLabel('Actor').fill(quoted);
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(async () => expect(await audit.locator('tbody tr').count()).toBe(1), 15_000);
    await signUp.waitFor();
    expect(problems).toEqual([]);
  });
});
