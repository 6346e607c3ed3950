// GET /api/v1/admin/users against a real control plane: users with tier and wallet balance (0
// before any credit), the email search (any case, LIKE wildcards literal), keyset pages, bad input
// named by field, customers and anonymous callers refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { startTestControlPlane, TEST_ADMIN, type TestControlPlane } from '../../../test/control-plane';

interface Listed {
  id: string;
  email: string;
  role: string;
  tier: string;
  createdAt: string;
  balance: number;
  currency: string;
}
interface Page {
  items: Listed[];
  nextCursor: string | null;
}

let cp: TestControlPlane;
let admin: ApiClient;
let customer: ApiClient;
const tag = `lst${process.pid}`;
const ids: Record<string, string> = {};

const err = (body: unknown) => (body as ApiErrorBody).error;
const fields = (body: unknown) => ((err(body).details as { fields?: { path: string }[] } | undefined)?.fields ?? []).map((f) => f.path);
const users = (query: Record<string, string> = {}) => admin.get<Page>(`/api/v1/admin/users?${new URLSearchParams(query).toString()}`);

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000' });
  admin = await cp.adminClient();
  for (const name of ['alice', 'bob', 'carol']) {
    const c = await cp.api.newCustomer(`${name}.${tag}@example.test`, 'customer-password-123');
    ids[name] = c.session.user.id;
    if (name === 'alice') customer = c.client;
  }
});

afterAll(async () => {
  await cp?.stop();
});

describe('GET /admin/users', () => {
  it('lists users newest first with tier and balance; a credit shows in the balance', async () => {
    const before = await users({ q: tag });
    expect(before.status).toBe(200);
    expect(before.body.items.map((u) => u.email)).toEqual([`carol.${tag}@example.test`, `bob.${tag}@example.test`, `alice.${tag}@example.test`]);
    expect(before.body.items[2]).toMatchObject({ id: ids.alice, role: 'customer', tier: 'free', balance: 0, currency: 'UZS' });
    expect(Number.isNaN(Date.parse(before.body.items[2]!.createdAt))).toBe(false);

    expect((await admin.post(`/api/v1/admin/users/${ids.bob}/wallet/credit`, { amount: 123_456, idempotencyKey: 'users-list' })).status).toBe(201);
    expect((await admin.patch(`/api/v1/admin/users/${ids.bob}`, { tier: 'business' })).status).toBe(200);
    const after = await users({ q: `BOB.${tag.toUpperCase()}` });
    expect(after.body.items).toEqual([expect.objectContaining({ id: ids.bob, balance: 123_456, tier: 'business' })]);
    const all = (await users()).body.items;
    expect(all.find((u) => u.email === TEST_ADMIN.email)).toMatchObject({ role: 'admin' });
  });

  it('takes LIKE wildcards in the search literally', async () => {
    expect((await users({ q: '%' })).body.items).toEqual([]);
    expect((await users({ q: `alice_${tag}` })).body.items).toEqual([]);
    expect((await users({ q: `alice.${tag}` })).body.items.map((u) => u.id)).toEqual([ids.alice]);
  });

  it('pages with limit and cursor: every user once', async () => {
    const all = (await users({ limit: '200' })).body.items;
    expect(all.length).toBe(4);
    const seen: Listed[] = [];
    let cursor: string | null = null;
    do {
      const res: Awaited<ReturnType<typeof users>> = await users({ limit: '1', ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBe(1);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual(all);
  });

  it('refuses bad input with VALIDATION_FAILED naming the field', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ limit: '0' }, 'limit'],
      [{ limit: '1000' }, 'limit'],
      [{ cursor: '***' }, 'cursor'],
      [{ q: '' }, 'q'],
      [{ q: 'x'.repeat(255) }, 'q'],
    ];
    for (const [query, field] of cases) {
      const res = await users(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(err(res.body).code).toBe('VALIDATION_FAILED');
      expect(fields(res.body)).toEqual([field]);
    }
  });

  it('is for admins only: a customer gets 403, an anonymous caller 401', async () => {
    const asCustomer = await customer.get('/api/v1/admin/users');
    expect(asCustomer.status).toBe(403);
    expect(err(asCustomer.body).code).toBe('FORBIDDEN');
    const anonymous = await cp.api.get('/api/v1/admin/users');
    expect(anonymous.status).toBe(401);
    expect(err(anonymous.body).code).toBe('UNAUTHENTICATED');
  });
});
