import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/db/ids';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';

let cp: TestControlPlane;
let admin: ApiClient;
let customer: ApiClient;

beforeAll(async () => {
  cp = await startTestControlPlane();
  admin = await cp.adminClient();
  customer = (await cp.api.newCustomer()).client;
});
afterAll(async () => {
  await cp?.stop();
});

const err = (body: unknown) => (body as ApiErrorBody).error;
const fields = (body: unknown) => ((err(body).details as { fields?: { path: string }[] } | undefined)?.fields ?? []).map((f) => f.path);
const small = { name: 'Small', cpuMillicores: 500, memoryMb: 512, diskMb: 5_120, hourlyPrice: 120 };

interface PlanBody {
  id: string;
  name: string;
  active?: boolean;
  hourlyPrice: number;
  currency: string;
}

/** an app row on the plan, as the apps API will make it */
async function appOnPlan(planId: string): Promise<string> {
  const [owner] = await cp.db('users').where({ role: 'customer' }).limit(1).select<{ id: string }[]>('id');
  await cp.db('regions').insert({ id: 'cat-1', name: 'Catalog 1' }).onConflict('id').ignore();
  const projectId = newId('prj');
  await cp.db('projects').insert({ id: projectId, owner_id: owner!.id, name: projectId });
  const appId = newId('app');
  await cp.db('apps').insert({
    id: appId,
    project_id: projectId,
    owner_id: owner!.id,
    name: `a${appId.slice(-8)}`,
    region_id: 'cat-1',
    plan_id: planId,
    source: JSON.stringify({ type: 'image', image: 'busybox:latest' }),
  });
  return appId;
}

describe('plans', () => {
  it('admin creates a plan; customers list active plans without the admin-only field', async () => {
    const created = await admin.post<PlanBody>('/api/v1/admin/plans', { id: 's-1', ...small });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 's-1', ...small, currency: 'UZS', active: true });
    const minted = await admin.post<PlanBody>('/api/v1/admin/plans', { ...small, name: 'Minted', currency: 'USD' });
    expect(minted.status).toBe(201);
    expect(minted.body.id).toMatch(/^plan_[a-z0-9]{20}$/);
    expect(minted.body.currency).toBe('USD');

    const listed = await customer.get<{ items: PlanBody[]; nextCursor: null }>('/api/v1/plans');
    expect(listed.status).toBe(200);
    expect(listed.body.nextCursor).toBeNull();
    expect(listed.body.items).toContainEqual({ id: 's-1', ...small, currency: 'UZS' });
    expect(listed.body.items.every((p) => !('active' in p))).toBe(true);
  });

  it('exposes getPlan-shaped rows to other code (hourlyPrice as a number)', async () => {
    const { getPlan } = await import('../src/catalog/plans');
    expect(await getPlan(cp.db, 's-1')).toEqual({ id: 's-1', ...small, currency: 'UZS', active: true });
    expect(await getPlan(cp.db, 'nope')).toBeUndefined();
  });

  it('answers 409 naming the field for a duplicate id or name, storing nothing', async () => {
    const sameId = await admin.post('/api/v1/admin/plans', { id: 's-1', ...small, name: 'Other' });
    expect(sameId.status).toBe(409);
    expect(err(sameId.body)).toMatchObject({ code: 'CONFLICT', details: { field: 'id' } });
    const sameName = await admin.post('/api/v1/admin/plans', { id: 's-2', ...small });
    expect(sameName.status).toBe(409);
    expect(err(sameName.body)).toMatchObject({ code: 'CONFLICT', details: { field: 'name' } });
    expect(await cp.db('plans').where({ id: 's-2' })).toHaveLength(0);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ ...small, id: 'Bad Id' }, 'id'],
      [{ ...small, cpuMillicores: 0 }, 'cpuMillicores'],
      [{ ...small, memoryMb: 1.5 }, 'memoryMb'],
      [{ ...small, diskMb: -1 }, 'diskMb'],
      [{ ...small, hourlyPrice: -5 }, 'hourlyPrice'],
      [{ ...small, hourlyPrice: 1e300 }, 'hourlyPrice'],
      [{ ...small, currency: 'usd' }, 'currency'],
      [{ ...small, name: '' }, 'name'],
      [{ ...small, extra: true }, 'body'],
      [{ ...small, active: 'yes' }, 'active'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.post('/api/v1/admin/plans', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(err(res.body).code).toBe('VALIDATION_FAILED');
      expect(fields(res.body)).toContain(field);
    }
    expect((await admin.patch('/api/v1/admin/plans/s-1', {})).status).toBe(400);
    expect(fields((await admin.patch('/api/v1/admin/plans/BAD!', { name: 'x' })).body)).toContain('id');
  });

  it('is admin-only for changes; customers get 403, anonymous 401', async () => {
    expect((await customer.post('/api/v1/admin/plans', { ...small, name: 'Sneaky' })).status).toBe(403);
    expect((await customer.patch('/api/v1/admin/plans/s-1', { hourlyPrice: 0 })).status).toBe(403);
    expect((await customer.delete('/api/v1/admin/plans/s-1')).status).toBe(403);
    expect((await customer.get('/api/v1/admin/plans')).status).toBe(403);
    expect((await cp.api.get('/api/v1/plans')).status).toBe(401);
    expect((await cp.db('plans').where({ id: 's-1' }).first<{ hourly_price: string }>()).hourly_price).toBe('120');
  });

  it('deactivating takes a plan off the menu but admins still see it', async () => {
    const off = await admin.patch<PlanBody>('/api/v1/admin/plans/s-1', { active: false, hourlyPrice: 150 });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: 's-1', active: false, hourlyPrice: 150 });
    const listed = await customer.get<{ items: PlanBody[] }>('/api/v1/plans');
    expect(listed.body.items.map((p) => p.id)).not.toContain('s-1');
    const all = await admin.get<{ items: PlanBody[] }>('/api/v1/admin/plans');
    expect(all.body.items.find((p) => p.id === 's-1')).toMatchObject({ active: false });
    expect((await admin.patch('/api/v1/admin/plans/s-1', { active: true })).status).toBe(200);
  });

  it('refuses to delete or resize a plan an app uses (409, deactivate instead); price changes still work', async () => {
    await admin.post('/api/v1/admin/plans', { id: 'in-use', ...small, name: 'In use' });
    await appOnPlan('in-use');
    const del = await admin.delete('/api/v1/admin/plans/in-use');
    expect(del.status).toBe(409);
    expect(err(del.body).message).toMatch(/deactivate/);
    const resize = await admin.patch('/api/v1/admin/plans/in-use', { memoryMb: 1_024 });
    expect(resize.status).toBe(409);
    expect(err(resize.body).message).toMatch(/memoryMb/);
    expect((await admin.patch('/api/v1/admin/plans/in-use', { memoryMb: 512, hourlyPrice: 99 })).status).toBe(200);
    expect(await cp.db('plans').where({ id: 'in-use' }).first()).toMatchObject({ memory_mb: 512, hourly_price: '99' });
    await eventually(async () => {
      const audit = await cp.db('audit_log').where({ action: 'plan.delete', target: 'plan:in-use' }).first<{ status: number }>();
      expect(audit?.status).toBe(409);
    });
  });

  it('deletes an unused plan (204, audited) and answers 404 afterwards', async () => {
    await admin.post('/api/v1/admin/plans', { id: 'temp', ...small, name: 'Temp' });
    expect((await admin.patch('/api/v1/admin/plans/temp', { memoryMb: 1_024 })).status).toBe(200);
    expect((await admin.delete('/api/v1/admin/plans/temp')).status).toBe(204);
    expect((await admin.delete('/api/v1/admin/plans/temp')).status).toBe(404);
    expect((await admin.patch('/api/v1/admin/plans/temp', { name: 'x' })).status).toBe(404);
    await eventually(async () => expect(await cp.db('audit_log').where({ action: 'plan.delete', target: 'plan:temp', status: 204 })).toHaveLength(1));
  });
});

describe('runtimes', () => {
  const node20 = { kind: 'node', version: '20', baseImage: 'node:20-bookworm-slim', buildCommand: 'npm ci && npm run build', startCommand: 'npm start' };

  it('admin creates, lists, changes and deletes runtimes; customers can list them', async () => {
    const created = await admin.post<{ id: string }>('/api/v1/admin/runtimes', { id: 'node-20', ...node20 });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 'node-20', ...node20 });
    const py = await admin.post<{ id: string; buildCommand: null }>('/api/v1/admin/runtimes', { kind: 'python', version: '3.12', baseImage: 'python:3.12-slim' });
    expect(py.status).toBe(201);
    expect(py.body.id).toMatch(/^rt_/);
    expect(py.body.buildCommand).toBeNull();

    for (const client of [customer, admin]) {
      const path = client === admin ? '/api/v1/admin/runtimes' : '/api/v1/runtimes';
      const listed = await client.get<{ items: { id: string }[] }>(path);
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((r) => r.id)).toEqual(expect.arrayContaining(['node-20', py.body.id]));
    }

    const changed = await admin.patch('/api/v1/admin/runtimes/node-20', { baseImage: 'node:20.11-bookworm-slim', buildCommand: null });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ baseImage: 'node:20.11-bookworm-slim', buildCommand: null, startCommand: 'npm start' });
    expect((await admin.delete(`/api/v1/admin/runtimes/${py.body.id}`)).status).toBe(204);
    expect((await admin.delete(`/api/v1/admin/runtimes/${py.body.id}`)).status).toBe(404);
  });

  it('answers 409 for a second runtime of the same kind and version', async () => {
    const dup = await admin.post('/api/v1/admin/runtimes', { ...node20, id: 'node-20-again' });
    expect(dup.status).toBe(409);
    expect(err(dup.body)).toMatchObject({ code: 'CONFLICT', details: { field: 'version' } });
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ ...node20, kind: 'ruby' }, 'kind'],
      [{ ...node20, version: '-rf' }, 'version'],
      [{ ...node20, baseImage: '--privileged' }, 'baseImage'],
      [{ ...node20, baseImage: 'node:20 ; rm -rf /' }, 'baseImage'],
      [{ ...node20, buildCommand: 'npm ci\nRUN curl evil' }, 'buildCommand'],
      [{ ...node20, startCommand: 'a\u0000b' }, 'startCommand'],
      [{ ...node20, startCommand: 'x'.repeat(1001) }, 'startCommand'],
      [{ ...node20, privileged: true }, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.post('/api/v1/admin/runtimes', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fields(res.body)).toContain(field);
    }
    expect((await customer.post('/api/v1/admin/runtimes', { ...node20, version: '22' })).status).toBe(403);
    expect((await customer.get('/api/v1/admin/runtimes')).status).toBe(403);
  });
});

describe('regions', () => {
  interface RegionBody {
    id: string;
    name: string;
    registryUrl?: string | null;
  }

  it('admin creates a region with a registry, changes and removes it; customers see id and name only', async () => {
    const created = await admin.post<RegionBody>('/api/v1/admin/regions', { id: 'reg-1', name: 'Registry 1', registryUrl: '127.0.0.1:5000' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({ id: 'reg-1', name: 'Registry 1', registryUrl: '127.0.0.1:5000' });
    const moved = await admin.patch<RegionBody>('/api/v1/admin/regions/reg-1', { registryUrl: 'registry.example.com:5000/karvon' });
    expect(moved.body).toEqual({ id: 'reg-1', name: 'Registry 1', registryUrl: 'registry.example.com:5000/karvon' });
    // what builds read (builds/build-stage.ts)
    expect((await cp.db('regions').where({ id: 'reg-1' }).first<{ registry_url: string }>('registry_url'))?.registry_url).toBe('registry.example.com:5000/karvon');
    const renamed = await admin.patch<RegionBody>('/api/v1/admin/regions/reg-1', { name: 'Renamed' });
    expect(renamed.body).toEqual({ id: 'reg-1', name: 'Renamed', registryUrl: 'registry.example.com:5000/karvon' });
    const removed = await admin.patch<RegionBody>('/api/v1/admin/regions/reg-1', { registryUrl: null });
    expect(removed.body).toEqual({ id: 'reg-1', name: 'Renamed', registryUrl: null });
    const listed = await customer.get<{ items: RegionBody[] }>('/api/v1/regions');
    expect(listed.body.items.find((r) => r.id === 'reg-1')).toEqual({ id: 'reg-1', name: 'Renamed' });
  });

  it('refuses a bad registry with 400 naming the field, storing nothing', async () => {
    for (const registryUrl of ['https://registry.example.com', 'registry', 'registry.example.com/x:latest', 'reg istry.example.com', 'registry.example.com:70000', 42]) {
      const res = await admin.post('/api/v1/admin/regions', { id: 'reg-bad', name: 'Bad', registryUrl });
      expect(res.status, JSON.stringify(registryUrl)).toBe(400);
      expect(fields(res.body)).toContain('registryUrl');
      const patched = await admin.patch('/api/v1/admin/regions/reg-1', { registryUrl });
      expect(patched.status).toBe(400);
      expect(fields(patched.body)).toContain('registryUrl');
    }
    expect(await cp.db('regions').where({ id: 'reg-bad' }).first()).toBeUndefined();
    expect((await cp.db('regions').where({ id: 'reg-1' }).first<{ registry_url: string | null }>('registry_url'))?.registry_url).toBeNull();
    expect((await admin.patch('/api/v1/admin/regions/reg-1', {})).status).toBe(400);
    expect((await admin.patch('/api/v1/admin/regions/nope-1', { registryUrl: '127.0.0.1:5000' })).status).toBe(404);
    expect((await customer.patch('/api/v1/admin/regions/reg-1', { registryUrl: '127.0.0.1:5000' })).status).toBe(403);
  });
});

describe('openapi.json', () => {
  it('is served without a token, as OpenAPI 3.1 covering the catalog', async () => {
    const res = await cp.api.get<{ openapi: string; paths: Record<string, unknown> }>('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/plans', '/api/v1/admin/plans/{id}', '/api/v1/admin/runtimes/{id}', '/healthz']));
  });
});
