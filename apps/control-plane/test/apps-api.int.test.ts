// The customer API for projects and apps against a real control plane and PostgreSQL, without
// nodes: validation naming each field with nothing stored, tenant isolation on every route that
// takes an id, pagination, env secrecy, and a deploy that fails for want of capacity with the
// scheduler's reasons. The rollout on a real agent and Docker is in apps/agent/test/app-lifecycle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { createNodeFixture } from '../../../test/fixtures';

const REGION = 'apps-1';

interface AppBody {
  id: string;
  name: string;
  status: string;
  hostname: string;
  region: string;
  planId: string;
  replicas: number;
  port: number;
  source: unknown;
  currentRelease: number | null;
}
interface DeployBody {
  id: string;
  status: string;
  releaseNumber?: number;
  error?: { code: string; message: string; details?: { reasons?: unknown[] } };
  phases: Array<{ name: string }>;
}

let cp: TestControlPlane;
let admin: ApiClient;
let alice: Customer;
let bob: Customer;
let aliceProject: string;

const fieldsOf = (body: unknown) => ((body as ApiErrorBody).error.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path);

async function createApp(c: Customer, projectId: string, over: Record<string, unknown> = {}) {
  return c.api.post<AppBody>('/api/v1/apps', { projectId, name: `a${Math.random().toString(36).slice(2, 9)}`, region: REGION, planId: 'small', source: { type: 'image', image: 'busybox:latest' }, ...over });
}

beforeAll(async () => {
  // Many mutations from one user in a short test: lift the per-user budget (its own test is elsewhere).
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000' });
  admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  alice = await registerCustomer(cp.api, 'alice', { admin, tier: 'business' });
  bob = await registerCustomer(cp.api, 'bob', { admin, tier: 'business' });
  const p = await alice.api.post<{ id: string }>('/api/v1/projects', { name: 'shop' });
  expect(p.status).toBe(201);
  aliceProject = p.body.id;
});

afterAll(async () => {
  await cp?.stop();
});

describe('projects', () => {
  it('creates, lists and refuses a duplicate or a bad name', async () => {
    const created = await bob.api.post<{ id: string; name: string }>('/api/v1/projects', { name: 'blog' });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('blog');
    expect((await bob.api.post('/api/v1/projects', { name: 'blog' })).status).toBe(409);
    const bad = await bob.api.post('/api/v1/projects', { name: 'Blog!' });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['name']);
    const list = await bob.api.get<{ items: Array<{ id: string }> }>('/api/v1/projects');
    expect(list.body.items.map((p) => p.id)).toEqual([created.body.id]);
    expect((await bob.api.delete(`/api/v1/projects/${created.body.id}`)).status).toBe(204);
    expect((await bob.api.get<{ items: unknown[] }>('/api/v1/projects')).body.items).toEqual([]);
  });

  it('refuses to delete a project that still has apps', async () => {
    const p = await alice.api.post<{ id: string }>('/api/v1/projects', { name: 'busy' });
    expect((await createApp(alice, p.body.id)).status).toBe(201);
    const res = await alice.api.delete<ApiErrorBody>(`/api/v1/projects/${p.body.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
  });
});

describe('apps', () => {
  it('creates an app with its system hostname and defaults', async () => {
    const res = await createApp(alice, aliceProject, { name: 'web' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'web', status: 'created', hostname: `web.${REGION}.apps.localhost`, region: REGION, planId: 'small', replicas: 1, port: 8080, currentRelease: null });
    const got = await alice.api.get<AppBody>(`/api/v1/apps/${res.body.id}`);
    expect(got.body).toEqual(res.body);
  });

  it('keeps names unique per region across tenants', async () => {
    expect((await createApp(alice, aliceProject, { name: 'unique-one' })).status).toBe(201);
    const bobProject = await bob.api.post<{ id: string }>('/api/v1/projects', { name: 'other' });
    const res = await createApp(bob, bobProject.body.id, { name: 'unique-one' });
    expect(res.status).toBe(409);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['an upper-case name', { name: 'Web' }, 'name'],
    ['a name starting with a digit', { name: '1web' }, 'name'],
    ['a one-letter name', { name: 'w' }, 'name'],
    ['a 31-character name', { name: 'w'.repeat(31) }, 'name'],
    ['an unknown region', { region: 'nowhere' }, 'region'],
    ['a malformed region', { region: 'No Where' }, 'region'],
    ['an unknown plan', { planId: 'huge' }, 'planId'],
    ['an image that is not a reference', { source: { type: 'image', image: 'Bad Image' } }, 'source.image'],
    ['an image with a bad tag', { source: { type: 'image', image: 'app:-x' } }, 'source.image'],
    ['an unknown source type', { source: { type: 'ftp', url: 'x' } }, 'source.type'],
    ['a git URL with a space', { source: { type: 'git', url: 'https://example.com/a b' } }, 'source.url'],
    ['port 0', { port: 0 }, 'port'],
    ['port 65536', { port: 65536 }, 'port'],
    ['a port as text', { port: '80' }, 'port'],
    ['negative replicas', { replicas: -1 }, 'replicas'],
    ['fractional replicas', { replicas: 1.5 }, 'replicas'],
    ['too many replicas', { replicas: 51 }, 'replicas'],
    ['an exec health check', { healthCheck: { type: 'exec', command: 'true' } }, 'healthCheck.type'],
    ['a health path without /', { healthCheck: { type: 'http', path: 'health' } }, 'healthCheck.path'],
    ['a malformed project id', { projectId: 'prj_1' }, 'projectId'],
    ['an unknown field', { privileged: true }, 'body'],
  ];
  it.each(bad)('refuses %s with 400 naming the field, storing nothing', async (_what, over, field) => {
    const before = (await alice.api.get<{ items: unknown[] }>('/api/v1/apps?limit=200')).body.items.length;
    const res = await createApp(alice, aliceProject, over);
    expect(res.status).toBe(400);
    expect((res.body as unknown as ApiErrorBody).error.code).toBe('VALIDATION_FAILED');
    expect(fieldsOf(res.body)).toContain(field);
    expect((await alice.api.get<{ items: unknown[] }>('/api/v1/apps?limit=200')).body.items.length).toBe(before);
  });

  it('pages through apps with a cursor', async () => {
    const carol = await registerCustomer(cp.api, 'carol');
    const p = await carol.api.post<{ id: string }>('/api/v1/projects', { name: 'many' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createApp(carol, p.body.id)).body.id);
    const first = await carol.api.get<{ items: AppBody[]; nextCursor: string | null }>('/api/v1/apps?limit=2');
    expect(first.body.items.map((a) => a.id)).toEqual([ids[2], ids[1]]);
    const second = await carol.api.get<{ items: AppBody[]; nextCursor: string | null }>(`/api/v1/apps?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((a) => a.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    expect((await carol.api.get('/api/v1/apps?limit=201')).status).toBe(400);
    expect((await carol.api.get('/api/v1/apps?cursor=bm9wZQ')).status).toBe(400);
  });

  it('lists by project and pages projects; the admin lists everyone, also by project and with a cursor', async () => {
    const dave = await registerCustomer(cp.api, 'dave', { admin, tier: 'business' });
    const p1 = (await dave.api.post<{ id: string }>('/api/v1/projects', { name: 'one' })).body.id;
    const p2 = (await dave.api.post<{ id: string }>('/api/v1/projects', { name: 'two' })).body.id;
    const a1 = (await createApp(dave, p1)).body.id;
    const a2 = (await createApp(dave, p2)).body.id;
    const a3 = (await createApp(dave, p2)).body.id;
    type Page<T> = { items: T[]; nextCursor: string | null };
    const ids = (b: Page<{ id: string }>) => b.items.map((x) => x.id);
    expect(ids((await dave.api.get<Page<AppBody>>(`/api/v1/apps?projectId=${p2}`)).body)).toEqual([a3, a2]);
    const byProject = await dave.api.get<Page<AppBody>>(`/api/v1/apps?projectId=${p2}&limit=1`);
    expect(ids(byProject.body)).toEqual([a3]);
    expect(ids((await dave.api.get<Page<AppBody>>(`/api/v1/apps?projectId=${p2}&limit=1&cursor=${byProject.body.nextCursor}`)).body)).toEqual([a2]);
    // another customer's project id filters to nothing of theirs
    expect((await alice.api.get<Page<AppBody>>(`/api/v1/apps?projectId=${p2}`)).body.items).toEqual([]);

    const projects = await dave.api.get<Page<{ id: string; ownerId: string }>>('/api/v1/projects?limit=1');
    expect(ids(projects.body)).toEqual([p2]);
    const rest = await dave.api.get<Page<{ id: string }>>(`/api/v1/projects?limit=1&cursor=${projects.body.nextCursor}`);
    expect(ids(rest.body)).toEqual([p1]);
    expect(rest.body.nextCursor).toBeNull();

    // the admin sees every tenant's rows, newest first, and pages them
    const all = await admin.get<Page<AppBody>>('/api/v1/apps?limit=3');
    expect(ids(all.body)).toEqual([a3, a2, a1]);
    expect((await admin.get<Page<AppBody>>(`/api/v1/apps?limit=200&cursor=${all.body.nextCursor}`)).body.items.map((a) => a.id)).not.toContain(a1);
    expect(ids((await admin.get<Page<AppBody>>(`/api/v1/apps?projectId=${p1}`)).body)).toEqual([a1]);
    const adminProjects = await admin.get<Page<{ id: string }>>('/api/v1/projects?limit=2');
    expect(ids(adminProjects.body)).toEqual([p2, p1]);
    const olderProjects = await admin.get<Page<{ id: string }>>(`/api/v1/projects?limit=200&cursor=${adminProjects.body.nextCursor}`);
    expect(ids(olderProjects.body)).toContain(aliceProject);
    expect(ids(olderProjects.body)).not.toContain(p1);
  });

  it('fails a deploy with NO_CAPACITY and the scheduler reasons when no node can take it', async () => {
    const app = await createApp(alice, aliceProject);
    const queued = await alice.api.post<DeployBody>(`/api/v1/apps/${app.body.id}/deploys`, {});
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ status: 'queued', releaseNumber: 1 });
    const done = await eventually(async () => {
      const d = await alice.api.get<DeployBody>(`/api/v1/deploys/${queued.body.id}`);
      expect(d.body.status).toBe('failed');
      return d.body;
    }, 15_000);
    expect(done.error?.code).toBe('NO_CAPACITY');
    expect(done.error?.message).toContain(REGION);
    expect(done.phases.map((p) => p.name)).toEqual(['queued', 'releasing', 'failed']);
    const after = await alice.api.get<AppBody>(`/api/v1/apps/${app.body.id}`);
    expect(after.body.status).toBe('failed');
    const releases = await alice.api.get<{ items: Array<{ number: number; current: boolean }> }>(`/api/v1/apps/${app.body.id}/releases`);
    expect(releases.body.items).toEqual([expect.objectContaining({ number: 1, current: false })]);
    const log = await alice.api.get<string>(`/api/v1/deploys/${queued.body.id}/logs`);
    expect(log.body).toContain('NO_CAPACITY');
  });

  it('fails a git deploy without a builder with NO_CAPACITY, and refuses a ref for an image app', async () => {
    const git = await createApp(alice, aliceProject, { source: { type: 'git', url: 'https://git.example.com/shop.git' } });
    expect(git.status).toBe(201);
    const queued = await alice.api.post<DeployBody>(`/api/v1/apps/${git.body.id}/deploys`, {});
    expect(queued.status).toBe(202);
    const done = await eventually(async () => {
      const d = await alice.api.get<DeployBody>(`/api/v1/deploys/${queued.body.id}`);
      expect(d.body.status).toBe('failed');
      return d.body;
    }, 15_000);
    expect(done.error).toMatchObject({ code: 'NO_CAPACITY', message: expect.stringContaining('no builder') as unknown });
    expect(done.phases.map((p) => p.name)).toEqual(['queued', 'building', 'failed']);
    expect(await cp.db('builds').where({ app_id: git.body.id }).select('status')).toEqual([{ status: 'failed' }]);
    const image = await createApp(alice, aliceProject);
    const res = await alice.api.post(`/api/v1/apps/${image.body.id}/deploys`, { ref: 'main' });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['ref']);
  });
});

describe('metrics', () => {
  it('sums the instances per minute, with network traffic per minute from the counters', async () => {
    const app = await createApp(alice, aliceProject);
    const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000);
    const at = (m: number) => new Date(t0.getTime() + m * 60_000);
    // A node elsewhere: this file's region must stay without capacity for the NO_CAPACITY tests.
    const nodeId = await createNodeFixture(cp.db, 'apps-metrics', { cpuMillicores: 1000, memoryMb: 1000, diskMb: 1000 });
    const point = (allocation: string, m: number, cpu: number, mem: number, rx: number) => ({
      allocation_id: allocation, app_id: app.body.id, node_id: nodeId, at: at(m), cpu_percent: cpu, memory_mb: mem, net_rx_bytes: rx, net_tx_bytes: rx / 2,
    });
    await cp.db('allocation_metrics').insert([point('a1', 0, 10, 100, 1000), point('a2', 0, 20, 50, 500), point('a1', 1, 30, 110, 4000), point('a2', 1, 40, 60, 600)]);
    const res = await alice.api.get<{ points: Array<{ at: string; instances: number; cpuPercent: number; memoryMb: number; netRxBytes: number; netTxBytes: number }> }>(
      `/api/v1/apps/${app.body.id}/metrics?since=${encodeURIComponent(at(0).toISOString())}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.points).toEqual([
      { at: at(0).toISOString(), instances: 2, cpuPercent: 30, memoryMb: 150, netRxBytes: 1500, netTxBytes: 750 },
      { at: at(1).toISOString(), instances: 2, cpuPercent: 70, memoryMb: 170, netRxBytes: 3100, netTxBytes: 1550 },
    ]);
    const tooOld = await alice.api.get(`/api/v1/apps/${app.body.id}/metrics?since=${encodeURIComponent(new Date(Date.now() - 8 * 86_400_000).toISOString())}`);
    expect(tooOld.status).toBe(400);
    expect(fieldsOf(tooOld.body)).toEqual(['since']);
  });
});

describe('quotas', () => {
  it('refuses beyond the tier with 422 QUOTA_EXCEEDED naming the limit, storing nothing', async () => {
    const free = await registerCustomer(cp.api, 'free');
    const p = await free.api.post<{ id: string }>('/api/v1/projects', { name: 'hobby' });
    const tooWide = await createApp(free, p.body.id, { replicas: 3 });
    expect(tooWide.status).toBe(422);
    expect((tooWide.body as unknown as ApiErrorBody).error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'maxReplicasPerApp', limitValue: 2, requested: 3 } });
    const apps: string[] = [];
    for (let i = 0; i < 5; i++) apps.push((await createApp(free, p.body.id)).body.id);
    const sixth = await createApp(free, p.body.id);
    expect(sixth.status).toBe(422);
    expect((sixth.body as unknown as ApiErrorBody).error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 'maxApps', limitValue: 5 } });
    const scale = await free.api.post<ApiErrorBody>(`/api/v1/apps/${apps[0]}/scale`, { replicas: 3 });
    expect(scale.status).toBe(422);
    expect((await free.api.get<AppBody>(`/api/v1/apps/${apps[0]}`)).body.replicas).toBe(1);
    expect((await free.api.get<{ items: unknown[] }>('/api/v1/apps')).body.items).toHaveLength(5);
  });
});

describe('env', () => {
  it('stores values sealed, shows plain ones, never shows secret ones', async () => {
    const app = await createApp(alice, aliceProject);
    const res = await alice.api.patch<{ vars: unknown[]; release: number | null }>(`/api/v1/apps/${app.body.id}/env`, {
      set: { GREETING: 'salom', DB_PASSWORD: { value: 'hunter2-very-secret', secret: true } },
    });
    expect(res.status).toBe(200);
    // Never deployed: the env waits for the first deploy.
    expect(res.body.release).toBeNull();
    const env = await alice.api.get<{ vars: unknown[] }>(`/api/v1/apps/${app.body.id}/env`);
    expect(env.body.vars).toEqual([
      { key: 'DB_PASSWORD', secret: true },
      { key: 'GREETING', secret: false, value: 'salom' },
    ]);
    const stored = await cp.db('env_vars').where({ app_id: app.body.id }).select('key', 'ciphertext');
    expect(stored).toHaveLength(2);
    for (const row of stored as Array<{ ciphertext: string }>) {
      expect(row.ciphertext).not.toContain('salom');
      expect(row.ciphertext).not.toContain('hunter2');
    }
    const unset = await alice.api.patch<{ vars: unknown[] }>(`/api/v1/apps/${app.body.id}/env`, { unset: ['GREETING'] });
    expect(unset.body.vars).toEqual([{ key: 'DB_PASSWORD', secret: true }]);
    // Nothing to roll out: no deploy queued, no release cut, the app not marked deploying.
    expect(await cp.db('deploys').where({ app_id: app.body.id }).count<Array<{ count: string }>>('* as count')).toEqual([{ count: '0' }]);
    expect(await cp.db('releases').where({ app_id: app.body.id }).count<Array<{ count: string }>>('* as count')).toEqual([{ count: '0' }]);
    expect((await alice.api.get<AppBody>(`/api/v1/apps/${app.body.id}`)).body.status).toBe('created');
  });

  it('refuses an env change of a never-deployed app being deleted, storing nothing', async () => {
    const app = await createApp(alice, aliceProject);
    await cp.db('apps').where({ id: app.body.id }).update({ status: 'deleting' });
    const res = await alice.api.patch<{ error: { code: string } }>(`/api/v1/apps/${app.body.id}/env`, { set: { LATE: 'x' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
    expect(await cp.db('env_vars').where({ app_id: app.body.id })).toEqual([]);
  });

  it.each([
    ['the reserved PORT', { set: { PORT: '1' } }, 'set.PORT'],
    ['a reserved KARVON_ name', { set: { KARVON_NODE: '1' } }, 'set.KARVON_NODE'],
    ['a name starting with a digit', { set: { '1BAD': '1' } }, 'set.1BAD'],
    ['a value with NUL', { set: { OK: 'a\u0000b' } }, 'set.OK'],
    ['a value over 32 KiB', { set: { OK: 'x'.repeat(32 * 1024 + 1) } }, 'set.OK'],
    ['an empty change', {}, 'body'],
  ])('refuses %s naming the field, changing nothing', async (_what, body, field) => {
    const app = await createApp(alice, aliceProject);
    const res = await alice.api.patch(`/api/v1/apps/${app.body.id}/env`, body);
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body).join(' ')).toContain(field);
    expect(await cp.db('env_vars').where({ app_id: app.body.id })).toEqual([]);
  });
});

describe('tenant isolation', () => {
  it("answers 404 on every route with another tenant's id, and changes nothing", async () => {
    const app = await createApp(alice, aliceProject, { name: 'private-app' });
    await alice.api.patch(`/api/v1/apps/${app.body.id}/env`, { set: { KEEP: 'me' } });
    const deploy = await alice.api.post<DeployBody>(`/api/v1/apps/${app.body.id}/deploys`, {});
    expect(deploy.status).toBe(202);
    const id = app.body.id;
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/apps/${id}`],
      ['PATCH', `/api/v1/apps/${id}`, { port: 9999 }],
      ['DELETE', `/api/v1/apps/${id}`],
      ['POST', `/api/v1/apps/${id}/deploys`, {}],
      ['GET', `/api/v1/apps/${id}/deploys`],
      ['GET', `/api/v1/apps/${id}/releases`],
      ['POST', `/api/v1/apps/${id}/rollback`, { release: 1 }],
      ['POST', `/api/v1/apps/${id}/scale`, { replicas: 3 }],
      ['POST', `/api/v1/apps/${id}/restart`],
      ['POST', `/api/v1/apps/${id}/stop`],
      ['POST', `/api/v1/apps/${id}/start`],
      ['GET', `/api/v1/apps/${id}/instances`],
      ['GET', `/api/v1/apps/${id}/logs`],
      ['GET', `/api/v1/apps/${id}/metrics`],
      ['GET', `/api/v1/apps/${id}/env`],
      ['PATCH', `/api/v1/apps/${id}/env`, { set: { KEEP: 'stolen' } }],
      ['GET', `/api/v1/deploys/${deploy.body.id}`],
      ['GET', `/api/v1/deploys/${deploy.body.id}/logs`],
      ['DELETE', `/api/v1/projects/${aliceProject}`],
      ['POST', '/api/v1/apps', { projectId: aliceProject, name: 'intruder', region: REGION, planId: 'small', source: { type: 'image', image: 'busybox' } }],
    ];
    const snapshot = async () => ({
      app: await cp.db('apps').where({ id }).first<Record<string, unknown>>(),
      deploys: await cp.db('deploys').where({ app_id: id }).count<Array<{ n: string }>>({ n: '*' }),
      env: await cp.db('env_vars').where({ app_id: id }).select('key', 'ciphertext'),
      project: await cp.db('projects').where({ id: aliceProject }).first<Record<string, unknown>>(),
    });
    await eventually(async () => expect((await alice.api.get<DeployBody>(`/api/v1/deploys/${deploy.body.id}`)).body.status).toBe('failed'), 15_000);
    const before = await snapshot();
    for (const [method, path, body] of calls) {
      const res = await bob.api.request<ApiErrorBody>(method, path, body);
      expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 404, 'NOT_FOUND']);
    }
    expect(await snapshot()).toEqual(before);
    // The admin sees it; its owner still does.
    expect((await admin.get(`/api/v1/apps/${id}`)).status).toBe(200);
    expect((await alice.api.get(`/api/v1/apps/${id}`)).status).toBe(200);
    expect((await bob.api.get<{ items: AppBody[] }>('/api/v1/apps?limit=200')).body.items.map((a) => a.id)).not.toContain(id);
  });
});
