// GET /api/v1/admin/audit against a real control plane: the caller's own mutating calls with actor,
// action, target and address, newest first; keyset pages; the actor/action/target filters (LIKE
// wildcards taken literally); bad input named by field; customers and anonymous callers refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { startTestControlPlane, TEST_ADMIN, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';

interface Entry {
  id: string;
  at: string;
  actor: { type: string; id: string | null; email: string | null };
  action: string;
  target: string | null;
  ip: string | null;
  status: number | null;
}
interface Page {
  items: Entry[];
  nextCursor: string | null;
}

let cp: TestControlPlane;
let admin: ApiClient;
let customer: ApiClient;
let customerId: string;
const email = `o'audit+${process.pid}@example.test`;
const projects: string[] = [];

const err = (body: unknown) => (body as ApiErrorBody).error;
const fields = (body: unknown) => ((err(body).details as { fields?: { path: string }[] } | undefined)?.fields ?? []).map((f) => f.path);
const audit = (query: Record<string, string> = {}) => admin.get<Page>(`/api/v1/admin/audit?${new URLSearchParams(query).toString()}`);

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000' });
  admin = await cp.adminClient();
  const signedUp = await cp.api.newCustomer(email, 'customer-password-123');
  customer = signedUp.client;
  customerId = signedUp.session.user.id;
  for (const name of ['one', 'two', 'three']) {
    const res = await customer.post<{ id: string }>('/api/v1/projects', { name });
    expect(res.status).toBe(201);
    projects.push(res.body.id);
  }
  expect((await customer.post('/api/v1/projects', { name: 'Bad Name' })).status).toBe(400);
  expect((await admin.post(`/api/v1/admin/users/${customerId}/wallet/credit`, { amount: 2500, idempotencyKey: 'audit-test' })).status).toBe(201);
  // the audit rows are written when each response has finished
  await eventually(async () => expect((await audit({ actor: customerId })).body.items).toHaveLength(5));
});

afterAll(async () => {
  await cp?.stop();
});

describe('GET /admin/audit', () => {
  it("lists the customer's mutating calls, newest first, with actor, action, target, address and status", async () => {
    const res = await audit({ actor: email });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const items = res.body.items;
    // the refused call is recorded too, under its route (it failed before naming an action)
    expect(items.map((e) => e.action)).toEqual(['POST /projects', 'project.create', 'project.create', 'project.create', 'auth.register']);
    expect(items.map((e) => e.status)).toEqual([400, 201, 201, 201, 201]);
    expect(items.slice(1, 4).map((e) => e.target)).toEqual([`project:${projects[2]}`, `project:${projects[1]}`, `project:${projects[0]}`]);
    expect(items[1]!.actor).toEqual({ type: 'user', id: customerId, email });
    expect(items[4]).toMatchObject({ actor: { type: 'anonymous', id: customerId, email }, target: `user:${customerId}` });
    for (const e of items) {
      expect(e.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    }
    const times = items.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // the same rows by user id
    expect((await audit({ actor: customerId })).body.items).toEqual(items);
  });

  it("filters by target (the admin's credit of the customer) and by action prefix", async () => {
    const onUser = (await audit({ target: `user:${customerId}` })).body.items;
    expect(onUser.map((e) => e.action)).toEqual(['wallet.credit', 'auth.register']);
    expect(onUser[0]!.actor).toMatchObject({ type: 'user', email: TEST_ADMIN.email });

    const projectCalls = (await audit({ action: 'project.' })).body.items;
    expect(projectCalls).toHaveLength(3);
    expect(projectCalls.every((e) => e.action === 'project.create')).toBe(true);
    // LIKE wildcards are literal: 'project_' does not match 'project.create'
    expect((await audit({ action: 'project_' })).body.items).toEqual([]);
    expect((await audit({ actor: 'nobody@example.test' })).body.items).toEqual([]);
  });

  it('pages with limit and cursor: every row once, in order', async () => {
    const all = (await audit({ limit: '200' })).body.items;
    expect(all.length).toBeGreaterThanOrEqual(6);
    const seen: Entry[] = [];
    let cursor: string | null = null;
    do {
      const res: Awaited<ReturnType<typeof audit>> = await audit({ limit: '2', ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor && seen.length < 500);
    // reading the log makes no rows (GET), so the walk sees what the single page saw, perhaps plus newer rows first
    expect(seen.slice(seen.length - all.length)).toEqual(all);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
  });

  it('refuses bad input with VALIDATION_FAILED naming the field', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ limit: '0' }, 'limit'],
      [{ limit: '201' }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ cursor: 'not a cursor!' }, 'cursor'],
      [{ cursor: Buffer.from(JSON.stringify(['2024-01-01T00:00:00.000Z', 'x'])).toString('base64url') }, 'cursor'],
      [{ actor: '<script>' }, 'actor'],
      [{ action: '' }, 'action'],
      [{ action: '<img src=x>' }, 'action'],
      [{ action: 'auth.%' }, 'action'],
      [{ target: 'no colon' }, 'target'],
    ];
    for (const [query, field] of cases) {
      const res = await audit(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(err(res.body).code).toBe('VALIDATION_FAILED');
      expect(fields(res.body), JSON.stringify(query)).toEqual([field]);
    }
  });

  it('is for admins only: a customer gets 403, an anonymous caller 401', async () => {
    const asCustomer = await customer.get('/api/v1/admin/audit');
    expect(asCustomer.status).toBe(403);
    expect(err(asCustomer.body).code).toBe('FORBIDDEN');
    const anonymous = await cp.api.get('/api/v1/admin/audit');
    expect(anonymous.status).toBe(401);
    expect(err(anonymous.body).code).toBe('UNAUTHENTICATED');
  });
});
