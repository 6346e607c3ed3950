import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/connect';
import { newId } from '../src/db/ids';
import { assertQuota, appQuotaChange } from '../src/quotas/check-quota';
import { loadUsage } from '../src/quotas/load-usage';
import { createMigratedTestDatabase } from '../../../test/database';

let db: Db;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ db, close } = await createMigratedTestDatabase());
  await db('regions').insert({ id: 'q-1', name: 'Quota 1' });
  await db('plans').insert([
    { id: 'small', name: 'Small', cpu_millicores: 250, memory_mb: 256, disk_mb: 1_024, hourly_price: 10 },
    { id: 'large', name: 'Large', cpu_millicores: 1_000, memory_mb: 2_048, disk_mb: 1_024, hourly_price: 40 },
  ]);
});
afterAll(async () => {
  await close?.();
});

async function user(tier?: string): Promise<string> {
  const id = newId('usr');
  await db('users').insert({ id, email: `${id}@example.test`, password_hash: 'x', role: 'customer', ...(tier ? { tier } : {}) });
  return id;
}

async function project(owner: string, deleted = false): Promise<string> {
  const id = newId('prj');
  await db('projects').insert({ id, owner_id: owner, name: id, ...(deleted ? { deleted_at: db.fn.now() } : {}) });
  return id;
}

async function app(owner: string, projectId: string, plan: string, replicas: number, deleted = false, on: Db = db): Promise<void> {
  const id = newId('app');
  await on('apps').insert({
    id,
    project_id: projectId,
    owner_id: owner,
    name: `a${id.slice(-10)}`,
    region_id: 'q-1',
    plan_id: plan,
    replicas,
    source: JSON.stringify({ type: 'image', image: 'busybox:latest' }),
    ...(deleted ? { deleted_at: db.fn.now() } : {}),
  });
}

describe('loadUsage', () => {
  it('counts live projects and apps, and plan × replicas over live apps', async () => {
    const u = await user();
    const p = await project(u);
    await project(u, true);
    await app(u, p, 'small', 2);
    await app(u, p, 'large', 1);
    await app(u, p, 'large', 3, true);
    // another user's things are not counted
    const other = await user();
    await app(other, await project(other), 'large', 1);
    expect(await loadUsage(db, u)).toEqual({ tier: 'free', projects: 1, apps: 2, cpuMillicores: 1_500, memoryMb: 2_560 });
  });

  it('answers zeros for a new user and reads the tier', async () => {
    expect(await loadUsage(db, await user('business'))).toEqual({ tier: 'business', projects: 0, apps: 0, cpuMillicores: 0, memoryMb: 0 });
    expect((await loadUsage(db, await user('gold'))).tier).toBe('free');
  });

  it('answers NOT_FOUND for an unknown user', async () => {
    await expect(loadUsage(db, 'usr_nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('with lock, serializes two creations by one user so only one fits under the limit', async () => {
    const u = await user();
    const p = await project(u);
    for (let i = 0; i < 4; i++) await app(u, p, 'small', 1);
    // Two creations race for the fifth (last) free-tier app slot.
    const create = () =>
      db.transaction(async (trx) => {
        const usage = await loadUsage(trx, u, { lock: true });
        assertQuota(usage, usage.tier, appQuotaChange({ plan: { cpuMillicores: 250, memoryMb: 256 }, replicas: 1 }));
        // hold the lock a while so the other creation really waits on it
        await new Promise((r) => setTimeout(r, 100));
        await app(u, p, 'small', 1, false, trx);
        return 'created';
      });
    const results = await Promise.allSettled([create(), create()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'maxApps', limitValue: 5, requested: 6 } });
  });
});
