// The panel end to end in Chromium against a real control plane, PostgreSQL, a real agent process
// and the Docker engine. Everything a person does goes through the pages: the admin creates a
// registration token and copies its install command (the test runs `karvon-agent register` with
// what was copied, as the install script would), sees the node come online without reloading; a
// customer creates an app from an image, deploys it, sees `succeeded` and live runtime logs (their
// markup shown as text), and the app answers on its upstream; the admin drains the node.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestControlPlane, TEST_ADMIN, type TestControlPlane } from '../../../test/control-plane';
import { creditWallet, ensureCatalog, TEST_FUNDS } from '../../../test/customers';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { freePort } from '../../../test/free-port';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';
import { fetchText, removeNodeObjects, testPortRange } from '../../agent/test/runtime-fixtures';
import { launchBrowser, openPage, screenshot, signIn } from './browser';
import { parseInstallCommand } from './install-command';
import { buildWebImage, LOG_MARKUP_CLASS, WEB_IMAGE, WEB_PAGE } from './web-image';

const REGION = 'panel-live';
const NODE_NAME = 'panel-node';
const PASSWORD = 'panel-password-123';
const agentBin = nodeBin('apps/agent/bin/karvon-agent.js');
/** live changes arrive by polling (nodes 5 s, deploys 3 s): generous for a loaded 2-core machine */
const LIVE_MS = 60_000;

await describeDocker('web panel with a real agent', () => {
  let docker: Docker;
  let cp: TestControlPlane;
  let browser: Browser;
  let stateDir = '';
  let nodeId = '';
  let agent: RunningProcess | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const range = testPortRange();
  const email = `live-${process.pid}-${Date.now()}@example.test`;

  const newPage = async (permissions?: string[]): Promise<Page> => {
    const opened = await openPage(browser, cp.url, problems, { ...(permissions ? { permissions } : {}) });
    contexts.push(opened.context);
    return opened.page;
  };
  const agentLog = () => agent?.output().slice(-3000) ?? '(no agent)';

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildWebImage(docker);
    // The install command names the public URL: a port chosen up front, so it is the real one.
    const port = await freePort();
    cp = await startTestControlPlane({
      KARVON_PORT: String(port),
      KARVON_PUBLIC_URL: `http://127.0.0.1:${port}`,
      KARVON_HEARTBEAT_SECONDS: '1',
      KARVON_NODE_GRACE_SECONDS: '30',
      KARVON_ROLLOUT_TIMEOUT_SECONDS: '120',
      // This machine's CPU is saturated by tests: the real agent's usage must not mark it degraded.
      KARVON_DEGRADED_PERCENT: '100',
      KARVON_MUTATIONS_PER_MINUTE: '10000',
      KARVON_MUTATION_BURST: '10000',
    });
    await ensureCatalog(await cp.adminClient(), REGION);
    browser = await launchBrowser();
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-panel-agent-'));
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    agent?.kill('SIGKILL');
    await agent?.exited;
    if (docker && nodeId) await removeNodeObjects(docker, nodeId);
    await cp?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('admin adds a node, customer deploys an image and reads its live logs, admin drains the node', async () => {
    // --- Admin: a registration token, its install command copied from the page --------------
    const admin = await newPage(['clipboard-read', 'clipboard-write']);
    await signIn(admin, TEST_ADMIN.email, TEST_ADMIN.password);
    await admin.getByRole('link', { name: 'Nodes' }).click();
    await admin.getByRole('heading', { name: 'Nodes', exact: true }).waitFor();
    await admin.getByText('No nodes have registered yet.').waitFor();
    const regionSelect = admin.getByLabel('Region', { exact: true });
    await regionSelect.locator(`option[value="${REGION}"]`).waitFor({ state: 'attached' });
    await regionSelect.selectOption(REGION);
    await admin.getByRole('button', { name: 'Create token' }).click();
    const shown = (await admin.getByTestId('install-command').textContent()) ?? '';
    await admin.getByRole('button', { name: 'Copy command' }).click();
    await admin.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = await admin.evaluate<string>('navigator.clipboard.readText()');
    expect(copied).toBe(shown.trim());
    await screenshot(admin, 'live-admin-token');

    // --- The new server: what the install script does with the copied command ----------------
    const target = parseInstallCommand(copied);
    expect(target.controlPlane).toBe(cp.url);
    const reg = startProcess(agentBin.file, [...agentBin.args, 'register', '--control-plane', target.controlPlane, '--token', target.token, '--state-dir', stateDir, '--name', NODE_NAME], {});
    expect(await reg.exited, reg.output()).toBe(0);
    nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
    agent = startProcess(agentBin.file, [...agentBin.args, 'run', '--state-dir', stateDir], {
      KARVON_LOG_LEVEL: 'info',
      KARVON_ADVERTISE_ADDR: '127.0.0.1',
      KARVON_PORT_RANGE: `${range.min}-${range.max}`,
      KARVON_DRAIN_SECONDS: '0',
      KARVON_TENANT_FIREWALL: 'false',
    });

    // The admin's page, never reloaded, shows the node online (it polls).
    const nodeCard = admin.locator(`li[data-node="${NODE_NAME}"]`);
    await eventually(async () => expect(await nodeCard.locator('.status').first().textContent(), agentLog()).toBe('online'), LIVE_MS);
    await eventually(async () => expect(await nodeCard.textContent()).toMatch(/heartbeat \d+ (s|min) ago/), LIVE_MS);
    await screenshot(admin, 'live-admin-nodes');

    // --- Customer: sign up, project, app from the image, deploy ---------------------------------
    const customer = await newPage();
    await customer.goto('/signup');
    await customer.getByLabel('Email').fill(email);
    await customer.getByLabel('Password').fill(PASSWORD);
    await customer.getByRole('button', { name: 'Sign up' }).click();
    await customer.getByRole('heading', { name: 'Apps' }).waitFor();
    // Billing is prepaid: the operator credits the new customer (the admin page has its own test).
    const login = await cp.api.login(email, PASSWORD);
    expect(login.status).toBe(200);
    await creditWallet(cp.api, await cp.adminClient(), login.body.user.id, TEST_FUNDS);

    await customer.getByRole('link', { name: 'Projects' }).click();
    await customer.getByLabel('Project name').fill('live');
    await customer.getByRole('button', { name: 'Create project' }).click();
    await customer.getByRole('cell', { name: 'live', exact: true }).waitFor();
    await customer.getByRole('link', { name: 'New app' }).first().click();
    await customer.getByLabel('Region').locator(`option[value="${REGION}"]`).waitFor({ state: 'attached' });
    await customer.getByLabel('Region').selectOption(REGION);
    await customer.getByLabel('Plan').locator('option[value="small"]').waitFor({ state: 'attached' });
    await customer.getByLabel('Plan').selectOption('small');
    await customer.getByLabel('App name').fill('web');
    await customer.getByLabel('Image', { exact: true }).fill(WEB_IMAGE);
    await customer.getByRole('button', { name: 'Create app' }).click();
    await customer.getByRole('heading', { name: 'web', exact: true }).waitFor();
    await screenshot(customer, 'live-app-created');

    await customer.getByRole('button', { name: 'Deploy', exact: true }).click();
    await customer.getByRole('heading', { name: /^Deploy dep/ }).waitFor();
    const deployRow = customer.locator('tr[data-deploy]').first();
    await eventually(async () => {
      const status = await deployRow.locator('.status').textContent();
      expect(status, `${(await deployRow.textContent()) ?? ''}\n${agentLog()}`).not.toMatch(/failed|cancelled/);
      expect(status).toBe('succeeded');
    }, 120_000);
    expect(await deployRow.locator('td').nth(3).textContent()).toBe('1');
    await eventually(async () => expect(await customer.locator('.page-head .status').textContent()).toBe('running'), LIVE_MS);
    await screenshot(customer, 'live-deploy-succeeded');

    // Overview: the instance is healthy on this node, and its upstream really serves the image.
    await customer.getByRole('link', { name: 'Overview' }).click();
    const instance = customer.getByRole('table', { name: 'Instances' }).locator('tbody tr').first();
    await eventually(async () => expect(await instance.locator('.status').textContent()).toBe('healthy'), LIVE_MS);
    expect(await instance.textContent()).toContain(nodeId);
    const upstream = ((await instance.locator('td').last().textContent()) ?? '').trim();
    expect(upstream).toMatch(/^127\.0\.0\.1:\d+$/);
    const port = Number(upstream.split(':')[1]);
    expect(port).toBeGreaterThanOrEqual(range.min);
    expect(port).toBeLessThanOrEqual(range.max);
    await eventually(async () => expect(await fetchText(`http://${upstream}/`)).toContain(WEB_PAGE), 30_000);
    await screenshot(customer, 'live-app-overview');

    // Runtime logs: lines arrive while the page stays open; their markup is text, not elements.
    await customer.getByRole('link', { name: 'Logs', exact: true }).click();
    const log = customer.getByLabel('Runtime log');
    const ticks = async () => [...((await log.textContent()) ?? '').matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
    const first = await eventually(async () => {
      const seen = await ticks();
      expect(seen.length).toBeGreaterThan(0);
      return Math.max(...seen);
    }, LIVE_MS);
    await eventually(async () => expect(Math.max(...(await ticks()))).toBeGreaterThanOrEqual(first + 2), LIVE_MS);
    await customer.getByRole('status').filter({ hasText: 'Stream: live' }).waitFor();
    expect(await log.textContent()).toContain(`<b class="${LOG_MARKUP_CLASS}">tick`);
    expect(await customer.locator(`.${LOG_MARKUP_CLASS}`).count()).toBe(0);
    await screenshot(customer, 'live-runtime-logs');

    // --- Admin: the node's page, drain with its confirmation ---------------------------------
    await nodeCard.getByRole('link', { name: NODE_NAME }).click();
    await admin.getByRole('heading', { name: NODE_NAME }).waitFor();
    const nodeStatus = admin.getByRole('heading', { level: 1 }).locator('.status');
    expect(await nodeStatus.textContent()).toBe('online');
    await eventually(async () => expect(Number(await admin.locator('dt:text-is("Containers") + dd').textContent())).toBeGreaterThanOrEqual(1), LIVE_MS);
    await admin.getByRole('button', { name: 'Drain' }).click();
    const confirm = admin.getByRole('group', { name: `Move every app off ${NODE_NAME}?` });
    // Cancel first: nothing changes.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await confirm.count()).toBe(0);
    expect(await nodeStatus.textContent()).toBe('online');
    await admin.getByRole('button', { name: 'Drain' }).click();
    await screenshot(admin, 'live-admin-drain-confirm');
    await confirm.getByRole('button', { name: 'Yes' }).click();
    await eventually(async () => expect(await nodeStatus.textContent()).toBe('draining'), LIVE_MS);
    await admin.getByRole('button', { name: 'Enable' }).waitFor();
    expect(await admin.getByRole('button', { name: 'Drain' }).count()).toBe(0);
    const row = await cp.db('nodes').where({ id: nodeId }).first<{ admin_status: string }>();
    expect(row.admin_status).toBe('draining');
    await screenshot(admin, 'live-admin-node-draining');

    // The list page shows it too.
    await admin.getByRole('link', { name: 'Nodes', exact: true }).click();
    await eventually(async () => expect(await nodeCard.locator('.status').first().textContent()).toBe('draining'), LIVE_MS);

    expect(problems).toEqual([]);
  }, 240_000);
});
