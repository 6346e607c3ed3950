// The deploy engine against a real control plane and PostgreSQL, with node rows but no agents:
// the agents' reports are written to the allocation rows the way the liveness writer writes them,
// so each rollout decision can be driven exactly. The real agent and Docker path is covered by
// apps/agent/test/app-lifecycle.int.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { CUSTOMER_PASSWORD, ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { createNodeFixture } from '../../../test/fixtures';
import { deployHelpers } from './deploy-helpers';

const REGION = 'deng-1';

let cp: TestControlPlane;
let admin: ApiClient;
let customer: Customer;
let projectId: string;

const liveAllocations = (deployId: string) => cp.db('allocations').where({ deploy_id: deployId }).whereNull('stopped_at').select('id', 'node_id');
const report = (deployId: string, actual_status: string, status_message: string | null = null) =>
  cp.db('allocations').where({ deploy_id: deployId }).whereNull('stopped_at').update({ actual_status, status_message, reported_at: cp.db.fn.now() });
const { deployOf, finished, deploy, newApp: newAppIn } = deployHelpers(() => ({ api: customer.api, projectId }));
const newApp = (replicas = 2) => newAppIn(REGION, replicas, 'e');

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '10000', KARVON_MUTATION_BURST: '10000' });
  admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  for (let i = 0; i < 3; i++) await createNodeFixture(cp.db, REGION, { cpuMillicores: 4000, memoryMb: 8192, diskMb: 100_000 });
  customer = await registerCustomer(cp.api, 'engine', { admin, tier: 'business' });
  projectId = (await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'engine' })).body.id;
});

afterAll(async () => {
  await cp?.stop();
});

describe('deploy engine', () => {
  it('places the replicas, waits for health, then retires the previous release', async () => {
    const appId = await newApp(2);
    const first = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(first.id)).toHaveLength(2), 10_000);
    expect((await deployOf(first.id)).status).toBe('releasing');
    await report(first.id, 'healthy');
    expect(await finished(first.id)).toMatchObject({ status: 'succeeded', releaseNumber: 1 });

    const second = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(second.id)).toHaveLength(2), 10_000);
    // Not healthy yet: the first release keeps serving.
    await report(second.id, 'starting');
    expect(await liveAllocations(first.id)).toHaveLength(2);
    await report(second.id, 'healthy');
    expect(await finished(second.id)).toMatchObject({ status: 'succeeded', releaseNumber: 2 });
    expect(await liveAllocations(first.id)).toHaveLength(0);
    const app = await cp.db('apps').where({ id: appId }).first<Record<string, unknown>>();
    expect(app).toMatchObject({ status: 'running', current_deploy_id: second.id });
    // Reservations follow: two live allocations' worth on the nodes, nothing leaked.
    const [sum] = await cp.db('nodes').where({ region_id: REGION }).sum({ cpu: 'allocated_cpu_millicores' });
    const [live] = await cp.db('allocations').join('nodes', 'nodes.id', 'allocations.node_id').where({ region_id: REGION }).whereNull('stopped_at').sum({ cpu: 'cpu_millicores' });
    expect(Number(sum!.cpu)).toBe(Number(live!.cpu));
  });

  it('fails a rollout whose replica fails, retiring only its own replicas', async () => {
    const appId = await newApp(1);
    const good = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(good.id)).toHaveLength(1), 10_000);
    await report(good.id, 'healthy');
    await finished(good.id);
    const bad = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(bad.id)).toHaveLength(1), 10_000);
    await report(bad.id, 'failed', 'unhealthy: no answer on / within 60 s\nError: boom');
    const done = await finished(bad.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'HEALTH_CHECK_FAILED' } });
    expect(done.error?.message).toContain('Error: boom');
    expect(await liveAllocations(bad.id)).toHaveLength(0);
    expect(await liveAllocations(good.id)).toHaveLength(1);
    expect(await cp.db('apps').where({ id: appId }).first()).toMatchObject({ status: 'running', current_deploy_id: good.id });
  });

  it('lets the newest deploy win: an unfinished rollout is cancelled and its replicas retired', async () => {
    const appId = await newApp(1);
    const older = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(older.id)).toHaveLength(1), 10_000);
    const newer = await deploy(appId);
    expect(await finished(older.id)).toMatchObject({ status: 'cancelled', error: { code: 'SUPERSEDED' } });
    expect(await liveAllocations(older.id)).toHaveLength(0);
    await eventually(async () => expect(await liveAllocations(newer.id)).toHaveLength(1), 10_000);
    await report(newer.id, 'healthy');
    expect(await finished(newer.id)).toMatchObject({ status: 'succeeded', releaseNumber: 2 });
  });

  it('continues a rollout after a control-plane restart without placing twice', async () => {
    const appId = await newApp(2);
    const d = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(d.id)).toHaveLength(2), 10_000);
    cp = await cp.restart();
    // The test control plane's issuer names its port, which was 0 before the first start.
    const login = await cp.api.login(customer.email, CUSTOMER_PASSWORD);
    customer = { ...customer, api: cp.api.as(login.body.accessToken) };
    await report(d.id, 'healthy');
    expect(await finished(d.id)).toMatchObject({ status: 'succeeded' });
    expect(await cp.db('allocations').where({ deploy_id: d.id })).toHaveLength(2);
  });

  it('scales through the current deploy and refuses what the fleet cannot hold, storing nothing', async () => {
    const appId = await newApp(1);
    const d = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(d.id)).toHaveLength(1), 10_000);
    await report(d.id, 'healthy');
    await finished(d.id);
    expect((await customer.api.post(`/api/v1/apps/${appId}/scale`, { replicas: 3 })).status).toBe(202);
    expect(await liveAllocations(d.id)).toHaveLength(3);
    expect((await customer.api.post(`/api/v1/apps/${appId}/scale`, { replicas: 1 })).status).toBe(202);
    expect(await liveAllocations(d.id)).toHaveLength(1);
    // 3 nodes × 4000 millicores: 50 replicas of 250 cannot all fit next to everything else.
    const tooMany = await customer.api.post<{ error: { code: string; message: string } }>(`/api/v1/apps/${appId}/scale`, { replicas: 50 });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error.message).toContain('no capacity');
    expect((await cp.db('apps').where({ id: appId }).first<{ replicas: number }>())?.replicas).toBe(1);
    expect(await liveAllocations(d.id)).toHaveLength(1);
  });

  it('drains a node: replacements placed elsewhere, originals retired only once they are healthy, then drained', async () => {
    const appId = await newApp(3);
    const d = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(d.id)).toHaveLength(3), 10_000);
    await report(d.id, 'healthy');
    await finished(d.id);
    // Pick a node that holds one of the replicas and drain it.
    admin = await cp.adminClient();
    const [victim] = (await liveAllocations(d.id)) as Array<{ node_id: string }>;
    const drainedNode = victim!.node_id;
    const onNode = async () => cp.db('allocations').where({ node_id: drainedNode, app_id: appId }).whereNull('stopped_at').select('id', 'replaces');
    const before = (await onNode()).map((r: { id: string }) => r.id);
    expect((await admin.patch(`/api/v1/admin/nodes/${drainedNode}`, { status: 'draining' })).status).toBe(200);
    const replacements = await eventually(async () => {
      const rows = await cp.db('allocations').whereIn('replaces', before).whereNull('stopped_at').select('id', 'node_id', 'actual_status');
      expect(rows).toHaveLength(before.length);
      return rows as Array<{ id: string; node_id: string }>;
    }, 10_000);
    expect(replacements.every((r) => r.node_id !== drainedNode)).toBe(true);
    // Not healthy yet: the originals keep serving, and the deploy is not trimmed or re-placed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await onNode()).toHaveLength(before.length);
    try {
      await cp.db('allocations').whereIn('id', replacements.map((r) => r.id)).update({ actual_status: 'healthy' });
      await eventually(async () => expect(await onNode()).toHaveLength(0), 10_000);
      expect(await liveAllocations(d.id)).toHaveLength(3);
      // Everything else on the node (earlier tests' apps) moves the same way once healthy elsewhere.
      await eventually(async () => {
        await cp.db('allocations').whereNotNull('replaces').whereNull('stopped_at').update({ actual_status: 'healthy' });
        expect((await admin.get<{ status: string }>(`/api/v1/admin/nodes/${drainedNode}`)).body.status).toBe('drained');
      }, 15_000);
    } finally {
      await admin.patch(`/api/v1/admin/nodes/${drainedNode}`, { status: 'active' });
    }
  });

  it('fails over from an offline node and cancels an unfinished move when the node returns', async () => {
    const appId = await newApp(1);
    const d = await deploy(appId);
    await eventually(async () => expect(await liveAllocations(d.id)).toHaveLength(1), 10_000);
    await report(d.id, 'healthy');
    await finished(d.id);
    const [original] = (await liveAllocations(d.id)) as Array<{ id: string; node_id: string }>;
    // The liveness sweep's verdict after the grace, written as it writes it.
    await cp.db('nodes').where({ id: original!.node_id }).update({ liveness: 'offline' });
    const replacement = await eventually(async () => {
      const row = await cp.db('allocations').where({ replaces: original!.id }).whereNull('stopped_at').first<{ id: string; node_id: string } | undefined>('id', 'node_id');
      expect(row).toBeDefined();
      return row!;
    }, 10_000);
    expect(replacement.node_id).not.toBe(original!.node_id);
    // The node returns before the replacement is healthy: the move is called off.
    await cp.db('nodes').where({ id: original!.node_id }).update({ liveness: 'online', last_heartbeat_at: cp.db.fn.now() });
    await eventually(async () => expect(await cp.db('allocations').where({ id: replacement.id }).whereNotNull('stopped_at')).toHaveLength(1), 10_000);
    expect(await cp.db('allocations').where({ id: original!.id }).whereNull('stopped_at')).toHaveLength(1);
    // Offline again, and this time the replacement becomes healthy: the original is retired.
    await cp.db('nodes').where({ id: original!.node_id }).update({ liveness: 'offline' });
    const second = await eventually(async () => {
      const row = await cp.db('allocations').where({ replaces: original!.id }).whereNull('stopped_at').first<{ id: string } | undefined>('id');
      expect(row).toBeDefined();
      return row!;
    }, 10_000);
    await cp.db('allocations').where({ id: second.id }).update({ actual_status: 'healthy' });
    await eventually(async () => expect(await cp.db('allocations').where({ id: original!.id }).whereNotNull('stopped_at')).toHaveLength(1), 10_000);
    expect(await liveAllocations(d.id)).toHaveLength(1);
    await cp.db('nodes').where({ id: original!.node_id }).update({ liveness: 'online', last_heartbeat_at: cp.db.fn.now() });
  });
});
