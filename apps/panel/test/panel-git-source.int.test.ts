// A private git repository set up from the panel in Chromium, against a real control plane and
// PostgreSQL: an https access token given at creation (write-only: the page and the API name it,
// never show it), replaced and removed from the Source tab; an ssh app's deploy key shown, copied
// from the page and rotated; bad input answered next to the field with nothing stored.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { CUSTOMER_PASSWORD, ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { launchBrowser, openPage, screenshot, signIn } from './browser';

const REGION = 'panel-git';
const TOKEN = 'glpat-PanelSecret0123456789';
const NEW_TOKEN = 'ghp_ReplacedSecret9876543210';
const HTTPS_URL = 'https://git.example.test/acme/private.git';
const SSH_URL = 'ssh://git@git.example.test/acme/service.git';

interface AppBody {
  id: string;
  name: string;
  source: { type: 'git'; url: string; branch: string; auth?: { type: string; username?: string; fingerprint?: string } };
}
interface DeployKeyBody {
  publicKey: string;
  fingerprint: string;
}

describe('private git source in the panel', () => {
  let cp: TestControlPlane;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let alice: Customer;
  const problems: string[] = [];

  beforeAll(async () => {
    cp = await startTestControlPlane();
    const admin = await cp.adminClient();
    await ensureCatalog(admin, REGION);
    alice = await registerCustomer(cp.api, 'gitpanel', { admin, tier: 'business' });
    const project = await alice.api.post('/api/v1/projects', { name: 'private' });
    expect(project.status).toBe(201);
    browser = await launchBrowser();
    const opened = await openPage(browser, cp.url, problems, { permissions: ['clipboard-read', 'clipboard-write'] });
    context = opened.context;
    page = opened.page;
    await signIn(page, alice.email, CUSTOMER_PASSWORD);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await cp?.stop();
  });

  const appsNamed = async (name: string) => {
    const res = await alice.api.get<{ items: AppBody[] }>('/api/v1/apps?limit=200');
    return res.body.items.filter((a) => a.name === name);
  };
  const fieldError = (label: string) => page.locator('.field', { has: page.getByLabel(label, { exact: true }) }).locator('.field-error');

  async function startGitApp(name: string, url: string): Promise<void> {
    await page.goto('/apps/new');
    await page.getByRole('heading', { name: 'New app' }).waitFor();
    await page.getByLabel('Region').locator(`option[value="${REGION}"]`).waitFor({ state: 'attached' });
    await page.getByLabel('Region').selectOption(REGION);
    await page.getByLabel('Plan').locator('option[value="small"]').waitFor({ state: 'attached' });
    await page.getByLabel('App name').fill(name);
    await page.getByLabel('Git repository').check();
    await page.getByLabel('Repository URL').fill(url);
  }

  it('an https token given at creation is stored sealed and never shown; bad tokens are refused with nothing stored', async () => {
    await startGitApp('private-web', HTTPS_URL);
    // No deploy-key hint for https; a token field instead.
    expect(await page.getByTestId('deploy-key-hint').count()).toBe(0);
    await page.getByLabel('Access token').fill('has a space');
    await page.getByRole('button', { name: 'Create app' }).click();
    await fieldError('Access token').waitFor();
    expect(await page.getByLabel('Access token').getAttribute('aria-invalid')).toBe('true');
    expect(await appsNamed('private-web')).toHaveLength(0);
    await screenshot(page, 'git-token-error');

    await page.getByLabel('Access token').fill(TOKEN);
    await page.getByLabel('Token username').fill('deploy-bot');
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { name: 'private-web', exact: true }).waitFor();

    const [app] = await appsNamed('private-web');
    expect(app?.source).toEqual({ type: 'git', url: HTTPS_URL, branch: 'main', auth: { type: 'token', username: 'deploy-bot' } });
    const row = await cp.db('apps').where({ id: app!.id }).first<{ git_token_ciphertext: string; source: unknown }>();
    expect(row.git_token_ciphertext).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(TOKEN);

    await page.getByRole('link', { name: 'Source', exact: true }).click();
    await page.getByTestId('token-state').filter({ hasText: 'deploy-bot' }).waitFor();
    expect(await page.content()).not.toContain(TOKEN);
    await screenshot(page, 'git-source-token');
  });

  it('the Source tab replaces and removes the token, and refuses a bad branch without changing the source', async () => {
    const [app] = await appsNamed('private-web');
    await page.goto(`/apps/${app!.id}/source`);
    await page.getByTestId('token-state').filter({ hasText: 'deploy-bot' }).waitFor();

    await page.getByLabel('Access token').fill(NEW_TOKEN);
    await page.getByRole('button', { name: 'Replace token' }).click();
    await page.getByRole('status').filter({ hasText: 'Token saved' }).waitFor();
    // No username given: the default one is used.
    await page.getByTestId('token-state').filter({ hasText: 'x-access-token' }).waitFor();
    expect(await page.getByLabel('Access token').inputValue()).toBe('');
    const replaced = await cp.db('apps').where({ id: app!.id }).first<{ git_token_ciphertext: string }>();
    expect(replaced.git_token_ciphertext).not.toContain(NEW_TOKEN);
    expect(await page.content()).not.toContain(NEW_TOKEN);

    await page.getByLabel('Branch').fill('two words');
    await page.getByRole('button', { name: 'Save repository' }).click();
    await fieldError('Branch').waitFor();
    expect((await appsNamed('private-web'))[0]?.source.branch).toBe('main');
    await page.getByLabel('Branch').fill('release/v2');
    await page.getByRole('button', { name: 'Save repository' }).click();
    await page.getByRole('status').filter({ hasText: 'The next deploy builds from here' }).waitFor();
    // Same URL: the stored token stays.
    expect((await appsNamed('private-web'))[0]?.source).toEqual({ type: 'git', url: HTTPS_URL, branch: 'release/v2', auth: { type: 'token', username: 'x-access-token' } });

    await page.getByRole('button', { name: 'Remove token' }).click();
    await page.getByRole('group', { name: /Remove the token/ }).getByRole('button', { name: 'Yes' }).click();
    await page.getByTestId('token-state').filter({ hasText: 'No token' }).waitFor();
    const cleared = await cp.db('apps').where({ id: app!.id }).first<{ git_token_ciphertext: string | null; git_token_username: string | null }>();
    expect(cleared).toMatchObject({ git_token_ciphertext: null, git_token_username: null });
    expect((await appsNamed('private-web'))[0]?.source.auth).toBeUndefined();
  });

  it("an ssh app shows its deploy key, which the page copies and rotates; another customer cannot read it", async () => {
    await startGitApp('private-svc', SSH_URL);
    await page.getByTestId('deploy-key-hint').waitFor();
    expect(await page.getByLabel('Access token').count()).toBe(0);
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { name: 'private-svc', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Source', exact: true }).click();

    const shown = page.getByTestId('deploy-key');
    await shown.waitFor();
    const [app] = await appsNamed('private-svc');
    const key = await alice.api.get<DeployKeyBody>(`/api/v1/apps/${app!.id}/deploy-key`);
    expect(key.status).toBe(200);
    expect(key.body.publicKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(await shown.textContent()).toBe(key.body.publicKey);
    expect(await page.getByTestId('deploy-key-fingerprint').textContent()).toBe(key.body.fingerprint);
    expect(await page.content()).not.toMatch(/PRIVATE KEY/);
    await page.getByRole('button', { name: 'Copy' }).first().click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(key.body.publicKey);
    await screenshot(page, 'git-source-deploy-key');

    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByRole('group', { name: /Rotate\?/ }).getByRole('button', { name: 'Yes' }).click();
    await page.getByRole('status').filter({ hasText: 'New key made' }).waitFor();
    await expect.poll(async () => page.getByTestId('deploy-key').textContent()).not.toBe(key.body.publicKey);
    const rotated = await alice.api.get<DeployKeyBody>(`/api/v1/apps/${app!.id}/deploy-key`);
    expect(rotated.body.publicKey).not.toBe(key.body.publicKey);
    expect(await page.getByTestId('deploy-key').textContent()).toBe(rotated.body.publicKey);

    // The app view names the key by fingerprint, never by its material.
    expect((await appsNamed('private-svc'))[0]?.source.auth).toEqual({ type: 'deploy-key', fingerprint: rotated.body.fingerprint });
    const bob = await registerCustomer(cp.api, 'gitpanel-other', { admin: await cp.adminClient(), tier: 'business' });
    expect((await bob.api.get(`/api/v1/apps/${app!.id}/deploy-key`)).status).toBe(404);
    expect(problems).toEqual([]);
  });
});
