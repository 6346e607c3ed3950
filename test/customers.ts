// Customers and a catalog for API tests: a region and a plan made by the admin, and customers
// registered through the public API, each with a client that carries their token.
import type { ApiClient } from './api-client';
import { ensureRegion } from './agents';
import { TEST_ADMIN } from './control-plane';

export interface Customer {
  id: string;
  email: string;
  api: ApiClient;
}

export const CUSTOMER_PASSWORD = 'customer-password-123';

let seq = 0;

/** What a test customer is credited with unless told otherwise: far more than any test spends. */
export const TEST_FUNDS = 1_000_000_000;

/**
 * Registers a customer; `tier` (set by the admin) lifts the free tier's quotas for tests that need
 * room. Billing is prepaid (new apps, deploys and scale-ups on an empty wallet answer 402), so the
 * customer is credited `funds` (default TEST_FUNDS; 0 for none) by the test admin.
 */
export async function registerCustomer(
  api: ApiClient,
  name = 'customer',
  tier?: { admin: ApiClient; tier: 'free' | 'standard' | 'business' },
  opts: { funds?: number } = {},
): Promise<Customer> {
  const email = `${name}-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const res = await api.register(email, CUSTOMER_PASSWORD);
  if (res.status !== 201) throw new Error(`register ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  const body = res.body;
  if (tier) {
    const set = await tier.admin.patch(`/api/v1/admin/users/${body.user.id}`, { tier: tier.tier });
    if (set.status !== 200) throw new Error(`tier: ${set.status} ${JSON.stringify(set.body)}`);
  }
  const funds = opts.funds ?? TEST_FUNDS;
  if (funds > 0) await creditWallet(api, tier?.admin, body.user.id, funds);
  return { id: body.user.id, email, api: api.as(body.accessToken) };
}

const adminClients = new Map<string, Promise<ApiClient>>();

/** The test admin, logged in once per control plane (login is rate limited). */
function testAdmin(api: ApiClient, fresh = false): Promise<ApiClient> {
  let admin = adminClients.get(api.baseUrl);
  if (!admin || fresh) {
    admin = api.login(TEST_ADMIN.email, TEST_ADMIN.password).then((res) => {
      if (res.status !== 200) throw new Error(`admin login: ${res.status} ${JSON.stringify(res.body)}`);
      return api.as(res.body.accessToken);
    });
    adminClients.set(api.baseUrl, admin);
    admin.catch(() => adminClients.delete(api.baseUrl));
  }
  return admin;
}

/** Credits a user's wallet through the admin API (POST /admin/users/:id/wallet/credit). */
export async function creditWallet(api: ApiClient, admin: ApiClient | undefined, userId: string, amount: number): Promise<void> {
  const path = `/api/v1/admin/users/${userId}/wallet/credit`;
  const body = { amount, idempotencyKey: `test-funds-${userId}` };
  let res = await (admin ?? (await testAdmin(api))).post(path, body);
  // A cached admin token of an earlier control plane on the same port: log in again once.
  if (res.status === 401 && !admin) res = await (await testAdmin(api, true)).post(path, body);
  if (res.status !== 201 && res.status !== 200) throw new Error(`credit: ${res.status} ${JSON.stringify(res.body)}`);
}

/** A region and an active plan (250 millicores, 128 MB) the tests can create apps with. */
export async function ensureCatalog(admin: ApiClient, region: string, planId = 'small'): Promise<{ region: string; planId: string }> {
  await ensureRegion(admin, region);
  const res = await admin.post('/api/v1/admin/plans', { id: planId, name: `Small ${planId}`, cpuMillicores: 250, memoryMb: 128, diskMb: 512, hourlyPrice: 100 });
  if (res.status !== 201 && res.status !== 409) throw new Error(`plan: ${res.status} ${JSON.stringify(res.body)}`);
  return { region, planId };
}
