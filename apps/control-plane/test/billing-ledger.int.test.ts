// The wallet and its ledger through the API: manual top-ups with idempotency keys, bad amounts, the
// customer's views, and the prepaid guard (402 on an empty wallet). The ledger's invariants are
// checked after every test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { expectLedgerInvariants } from './billing-fixtures';

interface Txn {
  id: string;
  type: string;
  amount: number;
  balanceAfter: number;
  currency: string;
  createdAt: string;
  note?: string;
}
interface Wallet {
  balance: number;
  currency: string;
  status: string;
}

const REGION = 'bill-1';
let cp: TestControlPlane;
let admin: ApiClient;

const credit = (userId: string, body: unknown) => admin.post<Txn>(`/api/v1/admin/users/${userId}/wallet/credit`, body);
const walletOf = async (c: Customer) => (await c.api.get<Wallet>('/api/v1/billing/wallet')).body;
const fieldsOf = (body: unknown) => ((body as ApiErrorBody).error.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path);

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000' }, { billing: { scheduled: false } });
  admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
});

afterEach(async () => {
  await expectLedgerInvariants(cp.db);
});

afterAll(async () => {
  await cp?.stop();
});

describe('wallet', () => {
  it('is created on first use, empty and active, in UZS', async () => {
    const c = await registerCustomer(cp.api, 'fresh', undefined, { funds: 0 });
    expect(await walletOf(c)).toEqual({ balance: 0, currency: 'UZS', status: 'active' });
    expect((await c.api.get('/api/v1/billing/transactions')).body).toEqual({ items: [], nextCursor: null });
  });
});

describe('admin top-up', () => {
  it('credits once per key: 201, then 200 with the same transaction on replay', async () => {
    const c = await registerCustomer(cp.api, 'topup', undefined, { funds: 0 });
    const first = await credit(c.id, { amount: 150_000, idempotencyKey: 'cash-2030-01-01-1', note: 'cash at the office' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ type: 'topup', amount: 150_000, balanceAfter: 150_000, currency: 'UZS', note: 'cash at the office' });
    const replay = await credit(c.id, { amount: 150_000, idempotencyKey: 'cash-2030-01-01-1' });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(await walletOf(c)).toMatchObject({ balance: 150_000, status: 'active' });
    // Another key is another payment.
    expect((await credit(c.id, { amount: 50, idempotencyKey: 'cash-2030-01-01-2' })).status).toBe(201);
    expect((await walletOf(c)).balance).toBe(150_050);
    // The platform side of each: the manual payments account.
    const sides = await cp.db('ledger_entries').where({ transaction_id: first.body.id }).orderBy('account').select('account', 'amount');
    expect(sides).toEqual([
      { account: 'payments:manual', amount: '-150000' },
      { account: 'wallet', amount: '150000' },
    ]);
    // Audited.
    const audit = await cp.db('audit_log').where({ action: 'wallet.credit', target: `user:${c.id}` }).count<Array<{ count: string }>>();
    expect(Number(audit[0]!.count)).toBe(3);
  });

  it('answers 409 when the key comes back with another amount, crediting nothing', async () => {
    const c = await registerCustomer(cp.api, 'conflict', undefined, { funds: 0 });
    expect((await credit(c.id, { amount: 1000, idempotencyKey: 'k-1' })).status).toBe(201);
    const other = await credit(c.id, { amount: 2000, idempotencyKey: 'k-1' });
    expect(other.status).toBe(409);
    expect((other.body as unknown as ApiErrorBody).error).toMatchObject({ code: 'CONFLICT', details: { idempotencyKey: 'k-1', amount: 1000 } });
    expect((await walletOf(c)).balance).toBe(1000);
  });

  it('credits exactly once when the same key arrives 20 times at once', async () => {
    const c = await registerCustomer(cp.api, 'race', undefined, { funds: 0 });
    const results = await Promise.all(Array.from({ length: 20 }, () => credit(c.id, { amount: 777, idempotencyKey: 'same' })));
    expect(results.map((r) => r.status).sort()).toEqual([...Array<number>(19).fill(200), 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await walletOf(c)).balance).toBe(777);
  });

  it('keeps keys apart per user: the same key credits two users', async () => {
    const [a, b] = [await registerCustomer(cp.api, 'ka', undefined, { funds: 0 }), await registerCustomer(cp.api, 'kb', undefined, { funds: 0 })];
    expect((await credit(a.id, { amount: 5, idempotencyKey: 'shared' })).status).toBe(201);
    expect((await credit(b.id, { amount: 5, idempotencyKey: 'shared' })).status).toBe(201);
  });

  const badAmounts: Array<[string, unknown]> = [
    ['negative', -100],
    ['zero', 0],
    ['fractional', 10.5],
    ['NaN (a string)', 'NaN'],
    ['a numeric string', '100'],
    ['huge', 10_000_000_000_001],
    ['beyond 2^53', 1e20],
    ['missing', undefined],
    ['null', null],
  ];
  it.each(badAmounts)('refuses a %s amount with 400 naming amount, crediting nothing', async (_what, amount) => {
    const c = await registerCustomer(cp.api, 'bad', undefined, { funds: 0 });
    const res = await credit(c.id, { amount, idempotencyKey: 'bad-1' });
    expect(res.status).toBe(400);
    expect((res.body as unknown as ApiErrorBody).error.code).toBe('VALIDATION_FAILED');
    expect(fieldsOf(res.body)).toContain('amount');
    expect((await walletOf(c)).balance).toBe(0);
  });

  it('refuses a JSON 1e400 (Infinity) and a body that is not JSON', async () => {
    const c = await registerCustomer(cp.api, 'inf', undefined, { funds: 0 });
    const inf = await admin.post(`/api/v1/admin/users/${c.id}/wallet/credit`, undefined, { rawBody: '{"amount": 1e400, "idempotencyKey": "x"}' });
    expect(inf.status).toBe(400);
    expect(fieldsOf(inf.body)).toContain('amount');
    const nan = await admin.post(`/api/v1/admin/users/${c.id}/wallet/credit`, undefined, { rawBody: '{"amount": NaN, "idempotencyKey": "x"}' });
    expect(nan.status).toBe(400);
    expect((await walletOf(c)).balance).toBe(0);
  });

  it('refuses a missing key, unknown fields, an unknown user, and a customer calling it', async () => {
    const c = await registerCustomer(cp.api, 'misc', undefined, { funds: 0 });
    expect(fieldsOf((await credit(c.id, { amount: 10 })).body)).toContain('idempotencyKey');
    expect((await credit(c.id, { amount: 10, idempotencyKey: 'has space' })).status).toBe(400);
    expect((await credit(c.id, { amount: 10, idempotencyKey: 'x', currency: 'USD' })).status).toBe(400);
    expect((await credit('usr_00000000000000000000', { amount: 10, idempotencyKey: 'x' })).status).toBe(404);
    expect((await c.api.post(`/api/v1/admin/users/${c.id}/wallet/credit`, { amount: 10, idempotencyKey: 'x' })).status).toBe(403);
    expect((await walletOf(c)).balance).toBe(0);
  });
});

describe('transactions', () => {
  it('pages newest first with the balance after each', async () => {
    const c = await registerCustomer(cp.api, 'pages', undefined, { funds: 0 });
    for (let i = 1; i <= 5; i++) expect((await credit(c.id, { amount: i * 10, idempotencyKey: `p-${i}` })).status).toBe(201);
    const first = await c.api.get<{ items: Txn[]; nextCursor: string | null }>('/api/v1/billing/transactions?limit=2');
    expect(first.body.items.map((t) => [t.amount, t.balanceAfter])).toEqual([
      [50, 150],
      [40, 100],
    ]);
    const rest: Txn[] = [];
    let cursor = first.body.nextCursor;
    while (cursor) {
      const page = await c.api.get<{ items: Txn[]; nextCursor: string | null }>(`/api/v1/billing/transactions?limit=2&cursor=${cursor}`);
      rest.push(...page.body.items);
      cursor = page.body.nextCursor;
    }
    expect(rest.map((t) => t.amount)).toEqual([30, 20, 10]);
    expect((await c.api.get('/api/v1/billing/transactions?limit=0')).status).toBe(400);
    expect((await c.api.get('/api/v1/billing/transactions?cursor=bm9wZQ')).status).toBe(400);
  });

  it("shows only the caller's own wallet", async () => {
    const [a, b] = [await registerCustomer(cp.api, 'own-a', undefined, { funds: 0 }), await registerCustomer(cp.api, 'own-b', undefined, { funds: 0 })];
    await credit(a.id, { amount: 99, idempotencyKey: 'own' });
    expect((await b.api.get<{ items: Txn[] }>('/api/v1/billing/transactions')).body.items).toEqual([]);
    expect((await b.api.get<Wallet>('/api/v1/billing/wallet')).body.balance).toBe(0);
    expect((await cp.api.get('/api/v1/billing/wallet')).status).toBe(401);
  });
});

describe('ledger storage', () => {
  it('refuses to update or delete an entry', async () => {
    const c = await registerCustomer(cp.api, 'immutable', undefined, { funds: 0 });
    const t = (await credit(c.id, { amount: 10, idempotencyKey: 'i' })).body;
    await expect(cp.db('ledger_entries').where({ transaction_id: t.id }).update({ amount: 1_000_000 })).rejects.toThrow(/append-only/);
    await expect(cp.db('ledger_entries').where({ transaction_id: t.id }).del()).rejects.toThrow(/append-only/);
    expect((await walletOf(c)).balance).toBe(10);
  });
});

describe('prepaid guard', () => {
  it('refuses a new app, a deploy, a scale-up and a start with 402 on an empty wallet; stop and scale-down still work', async () => {
    const c = await registerCustomer(cp.api, 'broke', undefined, { funds: 0 });
    const project = (await c.api.post<{ id: string }>('/api/v1/projects', { name: 'broke' })).body.id;
    const newApp = () => c.api.post<{ id: string }>('/api/v1/apps', { projectId: project, name: `b${Math.random().toString(36).slice(2, 8)}`, region: REGION, planId: 'small', source: { type: 'image', image: 'busybox:latest' } });
    const refused = await newApp();
    expect(refused.status).toBe(402);
    expect((refused.body as unknown as ApiErrorBody).error).toMatchObject({ code: 'INSUFFICIENT_FUNDS', details: { balance: 0, currency: 'UZS' } });
    // With money the app is created; when the money is gone, everything that would spend more is refused.
    await credit(c.id, { amount: 1, idempotencyKey: 'one' });
    const app = await newApp();
    expect(app.status).toBe(201);
    await cp.db.transaction(async (trx) => {
      // An empty wallet without a charge: an adjustment through the ledger, like support would book it.
      const { ensureWallet, post } = await import('../src/billing/ledger');
      const w = await ensureWallet(trx, c.id, { lock: true });
      await post(trx, w, { type: 'adjustment', amount: -1, counterAccount: 'adjustments', idempotencyKey: `adj:${c.id}` });
    });
    for (const res of [
      await newApp(),
      await c.api.post(`/api/v1/apps/${app.body.id}/deploys`, {}),
      await c.api.post(`/api/v1/apps/${app.body.id}/scale`, { replicas: 2 }),
      await c.api.post(`/api/v1/apps/${app.body.id}/start`, {}),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(402);
      expect((res.body as ApiErrorBody).error.code).toBe('INSUFFICIENT_FUNDS');
    }
    expect((await c.api.post(`/api/v1/apps/${app.body.id}/stop`, {})).status).toBe(202);
    expect((await c.api.post(`/api/v1/apps/${app.body.id}/scale`, { replicas: 0 })).status).toBe(202);
  });
});
