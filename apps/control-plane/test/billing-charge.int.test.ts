// The hourly charge against a real database: allocations are written as rows at exact times (the
// charge reads only times), hours are charged through the admin run endpoint and the job, and the
// ledger's invariants are checked after every test.
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { createBilling, type Billing } from '../src/billing/billing';
import { HOUR_MS, lastEndedHour } from '../src/billing/billing-hour';
import { createBillingJob } from '../src/jobs/billing-job';
import { newId } from '../src/db/ids';
import { allocation, expectLedgerInvariants, meteredApp, minutes } from './billing-fixtures';

const REGION = 'meter-1';
let cp: TestControlPlane;
let admin: ApiClient;
/** a past hour per test, far from the present and from each other */
let nextHour = lastEndedHour(new Date()).getTime() - 24 * HOUR_MS;
const freshHour = () => new Date((nextHour -= 3 * HOUR_MS));

const run = (hour: Date) => admin.post<{ hour: string; charged: number; alreadyCharged: number; amount: number }>('/api/v1/admin/billing/run', { hour: hour.toISOString() });
const balanceOf = async (userId: string) => Number((await cp.db('wallets').where({ user_id: userId }).first<{ balance: string }>('balance')).balance);
const chargesOf = (appId: string) => cp.db('ledger_entries').where({ app_id: appId, account: 'wallet', type: 'charge' }).select<Array<{ amount: string; period: Date }>>('amount', 'period');

function billingAt(now: () => Date): Billing {
  return createBilling({
    db: cp.db,
    apps: { db: cp.db, planner: cp.planner, wakeDeploys: () => undefined },
    graceMs: 24 * HOUR_MS,
    logger: pino({ level: 'silent' }),
    now,
  });
}

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000' }, { billing: { scheduled: false } });
  admin = await cp.adminClient();
});

afterEach(async () => {
  await expectLedgerInvariants(cp.db);
});

afterAll(async () => {
  await cp?.stop();
});

describe('what an hour costs', () => {
  it('charges an app that ran 20 minutes of the hour for 20 minutes', async () => {
    const H = freshHour();
    const a = await meteredApp(cp.db, REGION, 3600);
    await allocation(cp.db, REGION, a.appId, minutes(H, 10), minutes(H, 30));
    const res = await run(H);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ hour: H.toISOString(), charged: 1, alreadyCharged: 0, amount: 1200 });
    expect(await chargesOf(a.appId)).toEqual([{ amount: '-1200', period: H }]);
    expect(await balanceOf(a.userId)).toBe(-1200);
    expect(await cp.db('usage_records').where({ app_id: a.appId }).first()).toMatchObject({ replica_seconds: '1200', amount: '1200' });
  });

  it('adds replicas, leaves out the time an allocation was stopped, and charges nothing outside its life', async () => {
    const H = freshHour();
    const a = await meteredApp(cp.db, REGION, 3600);
    await allocation(cp.db, REGION, a.appId, minutes(H, -60), minutes(H, 90)); // the whole hour
    const paused = await allocation(cp.db, REGION, a.appId, minutes(H, -60), minutes(H, 90));
    await cp.db('allocation_pauses').insert({ allocation_id: paused, paused_at: minutes(H, 15), resumed_at: minutes(H, 45) }); // 30 min
    await allocation(cp.db, REGION, a.appId, minutes(H, -120), minutes(H, -60)); // before
    await allocation(cp.db, REGION, a.appId, minutes(H, 60), minutes(H, 120)); // after
    expect((await run(H)).body).toMatchObject({ charged: 1, amount: 5400 });
    // The hours around it are charged for what ran in them.
    expect((await run(new Date(H.getTime() + HOUR_MS))).body).toMatchObject({ charged: 1, amount: 1800 + 1800 + 3600 });
  });

  it('records stops and starts of an allocation through any code path as pauses', async () => {
    const a = await meteredApp(cp.db, REGION, 3600);
    const id = await allocation(cp.db, REGION, a.appId, new Date(), null);
    await cp.db('allocations').where({ id }).update({ desired_status: 'stopped' });
    await cp.db('allocations').where({ id }).update({ actual_status: 'exited' }); // not a status change
    const open = await cp.db('allocation_pauses').where({ allocation_id: id }).select<Array<{ resumed_at: Date | null }>>('paused_at', 'resumed_at');
    expect(open).toHaveLength(1);
    expect(open[0]!.resumed_at).toBeNull();
    await cp.db('allocations').where({ id }).update({ desired_status: 'running' });
    const closed = await cp.db('allocation_pauses').where({ allocation_id: id }).first<{ paused_at: Date; resumed_at: Date }>();
    expect(closed.resumed_at.getTime()).toBeGreaterThanOrEqual(closed.paused_at.getTime());
    await cp.db('allocations').where({ id }).update({ stopped_at: new Date() });
    // Created stopped: paused from its creation. Created running, or written running again: no pause.
    const createdRunning = await allocation(cp.db, REGION, a.appId, new Date(), null);
    const node = await cp.db('allocations').where({ id: createdRunning }).first<{ node_id: string }>('node_id');
    const createdStopped = newId('alc');
    await cp.db('allocations').insert({ id: createdStopped, app_id: a.appId, node_id: node.node_id, cpu_millicores: 250, memory_mb: 128, disk_mb: 512, desired_status: 'stopped' });
    await cp.db('allocations').where({ id: createdRunning }).update({ desired_status: 'running' });
    expect(await cp.db('allocation_pauses').whereIn('allocation_id', [createdStopped, createdRunning]).pluck('allocation_id')).toEqual([createdStopped]);
  });

  it('charges nothing for an app without running time, and a free plan at zero', async () => {
    const H = freshHour();
    const free = await meteredApp(cp.db, REGION, 0);
    await allocation(cp.db, REGION, free.appId, minutes(H, 0), minutes(H, 60));
    expect((await run(H)).body).toMatchObject({ charged: 1, amount: 0 });
    expect(await chargesOf(free.appId)).toEqual([]);
    expect(await cp.db('usage_records').where({ app_id: free.appId }).first()).toMatchObject({ replica_seconds: '3600', amount: '0', transaction_id: null });
  });
});

describe('exactly once', () => {
  it('100 concurrent runs of the same hour charge each app exactly once', async () => {
    const H = freshHour();
    const owner = await meteredApp(cp.db, REGION, 3600);
    const apps = [owner, ...(await Promise.all(Array.from({ length: 5 }, () => meteredApp(cp.db, REGION, 3600, owner.userId)))), ...(await Promise.all(Array.from({ length: 4 }, () => meteredApp(cp.db, REGION, 7200))))];
    for (const [i, a] of apps.entries()) await allocation(cp.db, REGION, a.appId, minutes(H, i), minutes(H, 60));
    const results = await Promise.all(Array.from({ length: 100 }, () => run(H)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.reduce((s, r) => s + r.body.charged, 0)).toBe(apps.length);
    const expected = (i: number, price: number) => Math.round((price * (60 - i) * 60) / 3600);
    for (const [i, a] of apps.entries()) {
      const price = i < 6 ? 3600 : 7200;
      expect(await chargesOf(a.appId)).toEqual([{ amount: String(-expected(i, price)), period: H }]);
    }
    expect(await balanceOf(owner.userId)).toBe(-[0, 1, 2, 3, 4, 5].reduce((s, i) => s + expected(i, 3600), 0));
    expect(await cp.db('billing_periods').where({ hour: H }).whereNotNull('completed_at').first()).toBeDefined();
  });

  it('a run that dies mid-way and is run again charges nothing twice and misses nothing', async () => {
    const H = freshHour();
    const apps = await Promise.all(Array.from({ length: 6 }, () => meteredApp(cp.db, REGION, 3600)));
    for (const a of apps) await allocation(cp.db, REGION, a.appId, minutes(H, 0), minutes(H, 30));
    const billing = billingAt(() => new Date());
    let charged = 0;
    await expect(
      billing.runHour(H, {
        afterCharge: () => {
          if (++charged === 2) throw new Error('control plane killed');
        },
      }),
    ).rejects.toThrow('control plane killed');
    const some = await cp.db('usage_records').where({ hour: H }).count<Array<{ count: string }>>();
    expect(Number(some[0]!.count)).toBe(2);
    // The hour was not marked done, so the job would take it again; an admin re-run here.
    expect(await cp.db('billing_periods').where({ hour: H }).first()).toBeUndefined();
    expect((await run(H)).body).toMatchObject({ charged: 4, alreadyCharged: 2, amount: 4 * 1800 });
    expect((await run(H)).body).toMatchObject({ charged: 0, alreadyCharged: 6, amount: 0 });
    for (const a of apps) expect(await chargesOf(a.appId)).toEqual([{ amount: '-1800', period: H }]);
  });
});

describe('the hourly job', () => {
  it('claims each ended hour once across instances, catches up oldest first, and takes over an abandoned hour after its lease', async () => {
    // A clock of its own, far in the future, so these hours are nobody else's.
    let now = new Date(Date.UTC(2040, 0, 1, 10, 0, 30));
    const billing = billingAt(() => now);
    const logger = pino({ level: 'silent' });
    const jobA = createBillingJob({ db: cp.db, billing, logger, leaseMs: 10 * 60_000 });
    const jobB = createBillingJob({ db: cp.db, billing, logger, leaseMs: 10 * 60_000 });
    const a = await meteredApp(cp.db, REGION, 3600);
    await allocation(cp.db, REGION, a.appId, new Date(Date.UTC(2040, 0, 1, 0)), new Date(Date.UTC(2040, 0, 1, 20)));
    // As on a new installation: no hour was ever charged (the admin runs above listed theirs).
    await cp.db('billing_periods').del();
    // Billing starts at its first tick: only the last ended hour (09:00), not the ten before it.
    expect([...(await jobA.tick()), ...(await jobB.tick())]).toEqual(['2040-01-01T09:00:00.000Z']);
    // Down for three hours: the next tick catches up 10:00, 11:00 and 12:00 in order; two at once share them.
    now = new Date(Date.UTC(2040, 0, 1, 13, 0, 5));
    const [x, y] = await Promise.all([jobA.tick(), jobB.tick()]);
    expect([...x, ...y].sort()).toEqual(['2040-01-01T10:00:00.000Z', '2040-01-01T11:00:00.000Z', '2040-01-01T12:00:00.000Z']);
    expect(x).toEqual([...x].sort());
    expect((await chargesOf(a.appId)).map((c) => c.period.toISOString()).sort()).toEqual(['09', '10', '11', '12'].map((h) => `2040-01-01T${h}:00:00.000Z`));
    // An instance that claimed 13:00 and died: the hour stays claimed until the lease runs out.
    now = new Date(Date.UTC(2040, 0, 1, 14, 0, 5));
    await cp.db('billing_periods').insert({ hour: new Date(Date.UTC(2040, 0, 1, 13)), claimed_at: now, claimed_by: 'cp_dead' });
    expect(await jobA.tick()).toEqual([]);
    now = new Date(now.getTime() + 11 * 60_000);
    expect(await jobA.tick()).toEqual(['2040-01-01T13:00:00.000Z']);
    expect(await chargesOf(a.appId)).toHaveLength(5);
    await jobA.stop();
    await jobB.stop();
  });
});

describe('admin run', () => {
  it('refuses an hour that has not ended, a time that is not a whole hour, and garbage, naming hour', async () => {
    const now = new Date();
    const current = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
    for (const hour of [current.toISOString(), new Date(current.getTime() + 5 * HOUR_MS).toISOString(), '2030-01-01T10:30:00Z', 'yesterday', 1234, '2030-13-01T10:00:00Z']) {
      const res = await admin.post('/api/v1/admin/billing/run', { hour });
      expect(res.status, String(hour)).toBe(400);
      expect(((res.body as ApiErrorBody).error.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toEqual(['hour']);
    }
    expect((await run(new Date(current.getTime() - HOUR_MS))).status).toBe(200);
    expect((await admin.post('/api/v1/admin/billing/run', { hour: '2025-01-01T10:00:00+05:00' })).status).toBe(200);
  });

  it('is admin only', async () => {
    const res = await cp.api.register(`u${Date.now()}@example.test`, 'customer-password-123');
    const customer = cp.api.as(res.body.accessToken);
    expect((await customer.post('/api/v1/admin/billing/run', { hour: lastEndedHour(new Date()).toISOString() })).status).toBe(403);
  });
});

describe('usage', () => {
  it('sums replica-hours and amounts per app for a month, for the customer only', async () => {
    const reg = await cp.api.register(`usage${Date.now()}@example.test`, 'customer-password-123');
    const customer = cp.api.as(reg.body.accessToken);
    const H = new Date(Date.UTC(2025, 4, 10, 8));
    const [first, second] = [await meteredApp(cp.db, REGION, 3600, reg.body.user.id), await meteredApp(cp.db, REGION, 1000, reg.body.user.id)].sort((x, y) => (x.appId < y.appId ? -1 : 1));
    await allocation(cp.db, REGION, first!.appId, H, new Date(H.getTime() + 2 * HOUR_MS));
    await allocation(cp.db, REGION, second!.appId, minutes(H, 30), minutes(H, 45));
    await cp.db('plans').where({ id: second!.planId }).update({ hourly_price: 1000 });
    await cp.db('plans').where({ id: first!.planId }).update({ hourly_price: 3600 });
    await run(H);
    await run(new Date(H.getTime() + HOUR_MS));
    const usage = await customer.get('/api/v1/billing/usage?month=2025-05');
    expect(usage.body).toEqual({
      items: [
        { appId: first!.appId, hours: 2, amount: 7200 },
        { appId: second!.appId, hours: 0.25, amount: 250 },
      ],
      total: 7450,
      currency: 'UZS',
    });
    expect((await customer.get('/api/v1/billing/usage?month=2025-06')).body).toEqual({ items: [], total: 0, currency: 'UZS' });
    expect((await customer.get('/api/v1/billing/usage')).status).toBe(200);
    for (const month of ['2031-5', '2031-13', 'May', '2031-05-01']) {
      const bad = await customer.get(`/api/v1/billing/usage?month=${month}`);
      expect(bad.status).toBe(400);
      expect(((bad.body as ApiErrorBody).error.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toEqual(['month']);
    }
    const txns = await customer.get<{ items: Array<{ type: string; amount: number; appId: string; period: string }> }>('/api/v1/billing/transactions');
    expect(txns.body.items.map((t) => [t.type, t.amount, t.period]).sort()).toEqual(
      [
        ['charge', -3600, H.toISOString()],
        ['charge', -3600, new Date(H.getTime() + HOUR_MS).toISOString()],
        ['charge', -250, H.toISOString()],
      ].sort(),
    );
  });
});
