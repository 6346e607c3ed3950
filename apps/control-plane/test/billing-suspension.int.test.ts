// End to end through the API, with billing's clock in the test's hand (no waiting): a customer with
// a small balance deploys an app, is charged hour by hour through the admin run endpoint, becomes
// `low`, runs out, is suspended after the grace period (replicas desired `stopped`, data kept), is
// refused new work with 402, and runs again after a top-up.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { createNodeFixture } from '../../../test/fixtures';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { HOUR_MS, hourStart } from '../src/billing/billing-hour';
import { expectLedgerInvariants } from './billing-fixtures';

const REGION = 'susp-1';
const PRICE = 3600; // per replica-hour: one per second
let cp: TestControlPlane;
let admin: ApiClient;
let customer: Customer;
let clock = new Date();

const wallet = async () => (await customer.api.get<{ balance: number; currency: string; status: string }>('/api/v1/billing/wallet')).body;
const kinds = async () => (await customer.api.get<{ items: Array<{ kind: string }> }>('/api/v1/notifications')).body.items.map((n) => n.kind).reverse();
const credit = (amount: number, key: string) => admin.post(`/api/v1/admin/users/${customer.id}/wallet/credit`, { amount, idempotencyKey: key });

beforeAll(async () => {
  cp = await startTestControlPlane(
    { KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000', KARVON_BILLING_GRACE_HOURS: '2' },
    { billing: { now: () => clock, scheduled: false } },
  );
  admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  expect((await admin.post('/api/v1/admin/plans', { id: 'meter', name: 'Meter', cpuMillicores: 250, memoryMb: 128, diskMb: 512, hourlyPrice: PRICE })).status).toBe(201);
  await createNodeFixture(cp.db, REGION, { cpuMillicores: 4000, memoryMb: 8192, diskMb: 100_000 });
  customer = await registerCustomer(cp.api, 'payer', { admin, tier: 'standard' }, { funds: 0 });
});

afterEach(async () => {
  await expectLedgerInvariants(cp.db);
});

afterAll(async () => {
  await cp?.stop();
});

describe('a customer running out of money', () => {
  it('is charged hourly, warned, suspended after the grace period with data kept, and resumed by a top-up', async () => {
    expect((await credit(50_000, 'first-payment')).status).toBe(201);
    expect(await wallet()).toEqual({ balance: 50_000, currency: 'UZS', status: 'active' });

    const project = (await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'shop' })).body.id;
    const app = await customer.api.post<{ id: string }>('/api/v1/apps', { projectId: project, name: 'shop', region: REGION, planId: 'meter', source: { type: 'image', image: 'busybox:latest' }, replicas: 1 });
    expect(app.status).toBe(201);
    const appId = app.body.id;
    expect((await customer.api.patch(`/api/v1/apps/${appId}/env`, { set: { GREETING: 'salom' } })).status).toBe(200);
    const deploy = await customer.api.post<{ id: string }>(`/api/v1/apps/${appId}/deploys`, {});
    expect(deploy.status).toBe(202);
    const live = () => cp.db('allocations').where({ app_id: appId }).whereNull('stopped_at').select<Array<{ id: string; desired_status: string; created_at: Date }>>('id', 'desired_status', 'created_at');
    await eventually(async () => expect(await live()).toHaveLength(1), 10_000);
    await cp.db('allocations').where({ app_id: appId }).whereNull('stopped_at').update({ actual_status: 'healthy', reported_at: cp.db.fn.now() });
    await eventually(async () => expect((await customer.api.get<{ status: string }>(`/api/v1/deploys/${deploy.body.id}`)).body.status).toBe('succeeded'), 20_000);
    const [alloc] = await live();

    // Hour by hour from the first whole hour after the replica was placed; the clock stands a
    // minute past each hour's end when it is charged.
    const first = hourStart(alloc!.created_at).getTime() + HOUR_MS;
    const hour = (k: number) => new Date(first + (k - 1) * HOUR_MS);
    const charge = async (k: number) => {
      clock = new Date(hour(k).getTime() + HOUR_MS + 60_000);
      const res = await admin.post<{ charged: number; amount: number }>('/api/v1/admin/billing/run', { hour: hour(k).toISOString() });
      expect(res.status).toBe(200);
      return res.body;
    };

    expect(await charge(1)).toMatchObject({ charged: 1, amount: PRICE });
    // 46 400 left, less than 24 hours of 3 600: low, and told once.
    expect(await wallet()).toEqual({ balance: 46_400, currency: 'UZS', status: 'low' });
    expect(await kinds()).toEqual(['wallet.low']);
    for (let k = 2; k <= 13; k++) expect(await charge(k)).toMatchObject({ amount: PRICE });
    expect(await wallet()).toMatchObject({ balance: 3_200, status: 'low' });
    expect(await kinds()).toEqual(['wallet.low']);

    // Hour 14 takes the balance below zero: the grace period (2 h here) starts; the app keeps running.
    await charge(14);
    expect(await wallet()).toMatchObject({ balance: -400, status: 'low' });
    expect(await kinds()).toEqual(['wallet.low', 'wallet.grace']);
    await charge(15);
    expect(await wallet()).toMatchObject({ balance: -4_000, status: 'low' });
    expect((await live())[0]!.desired_status).toBe('running');

    // Hour 16 ends the grace period: suspended.
    await charge(16);
    expect(await wallet()).toMatchObject({ balance: -7_600, status: 'suspended' });
    expect(await kinds()).toEqual(['wallet.low', 'wallet.grace', 'wallet.suspended']);
    const suspended = await live();
    expect(suspended).toEqual([expect.objectContaining({ id: alloc!.id, desired_status: 'stopped' })]);
    const row = await cp.db('apps').where({ id: appId }).first<{ desired_status: string; suspended_at: Date | null; current_release_id: string | null; source: unknown }>();
    expect(row).toMatchObject({ desired_status: 'stopped', source: { type: 'image', image: 'busybox:latest' } });
    expect(row.suspended_at).not.toBeNull();
    expect(row.current_release_id).not.toBeNull();
    expect((await customer.api.get<{ status: string }>(`/api/v1/apps/${appId}`)).body.status).toBe('stopped');
    // Data kept: env, releases.
    expect(await cp.db('env_vars').where({ app_id: appId }).pluck('key')).toEqual(['GREETING']);
    expect((await customer.api.get<{ items: unknown[] }>(`/api/v1/apps/${appId}/releases`)).body.items).toHaveLength(1);

    // Nothing new starts while the balance is at or below zero.
    for (const res of [
      await customer.api.post(`/api/v1/apps/${appId}/deploys`, {}),
      await customer.api.post(`/api/v1/apps/${appId}/scale`, { replicas: 2 }),
      await customer.api.post(`/api/v1/apps/${appId}/start`, {}),
      await customer.api.post('/api/v1/apps', { projectId: project, name: 'another', region: REGION, planId: 'meter', source: { type: 'image', image: 'busybox:latest' } }),
    ]) {
      expect(res.status).toBe(402);
      expect((res.body as ApiErrorBody).error.code).toBe('INSUFFICIENT_FUNDS');
    }

    // A stopped replica costs nothing: the next hour charges nothing.
    expect(await charge(17)).toMatchObject({ charged: 0, amount: 0 });
    expect((await wallet()).balance).toBe(-7_600);

    // A top-up above zero resumes at once, and ends the episode.
    expect((await credit(100_000, 'second-payment')).status).toBe(201);
    expect(await wallet()).toEqual({ balance: 92_400, currency: 'UZS', status: 'active' });
    expect(await live()).toEqual([expect.objectContaining({ id: alloc!.id, desired_status: 'running' })]);
    expect(await cp.db('apps').where({ id: appId }).first()).toMatchObject({ desired_status: 'running', suspended_at: null });
    expect((await customer.api.get<{ status: string }>(`/api/v1/apps/${appId}`)).body.status).toBe('running');
    expect(await kinds()).toEqual(['wallet.low', 'wallet.grace', 'wallet.suspended', 'wallet.resumed']);

    // The customer's record of it all.
    const txns = (await customer.api.get<{ items: Array<{ type: string; amount: number }> }>('/api/v1/billing/transactions?limit=200')).body.items;
    expect(txns.filter((t) => t.type === 'charge')).toHaveLength(16);
    expect(txns.filter((t) => t.type === 'topup').map((t) => t.amount)).toEqual([100_000, 50_000]);
    const months = [...new Set(Array.from({ length: 16 }, (_, i) => hour(i + 1).toISOString().slice(0, 7)))];
    let hours = 0;
    for (const m of months) {
      const u = (await customer.api.get<{ items: Array<{ appId: string; hours: number; amount: number }>; total: number }>(`/api/v1/billing/usage?month=${m}`)).body;
      hours += u.items.find((i) => i.appId === appId)?.hours ?? 0;
    }
    expect(hours).toBe(16);
  });
});
