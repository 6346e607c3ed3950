// The quickstart's seeds go through the admin API and are idempotent: a second run creates
// nothing, and an operator's edit to a seeded record survives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../scripts/quickstart/api-client.mjs';
import { DEFAULT_PLANS, DEFAULT_RUNTIMES, LOCAL_REGION, seedCatalog } from '../scripts/quickstart/seed-catalog.mjs';
import { startTestControlPlane, type TestControlPlane } from './control-plane';

describe('quickstart seeds', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane();
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('creates the local region, plans and runtimes once, and keeps edits', async () => {
    const admin = await cp.adminClient();
    const api = await loginAs(cp.url, cp.admin);
    const first = await seedCatalog(api);
    expect(first.created).toHaveLength(1 + DEFAULT_PLANS.length + DEFAULT_RUNTIMES.length);

    const regions = await admin.request<{ items: Array<{ id: string }> }>('GET', '/api/v1/regions');
    expect(regions.body.items.map((r) => r.id)).toContain(LOCAL_REGION.id);
    const plans = await admin.request<{ items: Array<{ id: string; hourlyPrice: number; currency: string }> }>('GET', '/api/v1/plans');
    expect(plans.body.items.map((p) => p.id).sort()).toEqual(['large', 'medium', 'small']);
    expect(plans.body.items.every((p) => p.currency === 'UZS' && p.hourlyPrice > 0)).toBe(true);
    const runtimes = await admin.request<{ items: Array<{ kind: string; baseImage: string }> }>('GET', '/api/v1/admin/runtimes');
    expect(runtimes.body.items.map((r) => r.kind).sort()).toEqual(['go', 'node', 'php', 'python', 'static']);
    expect(runtimes.body.items.find((r) => r.kind === 'node')?.baseImage).toBe('node:20-bookworm-slim');

    const edited = await admin.request('PATCH', '/api/v1/admin/runtimes/node-20', { baseImage: 'registry.local:5000/node:20' });
    expect(edited.status).toBe(200);
    const second = await seedCatalog(api);
    expect(second.created).toEqual([]);
    const after = await admin.request<{ items: Array<{ id: string; baseImage: string }> }>('GET', '/api/v1/admin/runtimes');
    expect(after.body.items).toHaveLength(DEFAULT_RUNTIMES.length);
    expect(after.body.items.find((r) => r.id === 'node-20')?.baseImage).toBe('registry.local:5000/node:20');
  });
});
