// Issue 12 (soak): apps settled with more live replicas than their count. Each test replays one
// history that left a replica nothing owned — a rollout ending while a drain or failover move was
// in flight, a chain of moves called off — against a real control plane and PostgreSQL, with node
// rows but no agents (reports and liveness written as the liveness writer writes them), and checks
// that once the engine settles the app has exactly its replicas, all of its current release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { createNodeFixture } from '../../../test/fixtures';
import { deployHelpers, type DeployBody } from './deploy-helpers';
import { commitPlacements } from '../src/planner/commit-placements';
import { retireAllocations } from '../src/allocations/allocation-changes';
import type { AllocationSpec } from '../src/planner/allocation-spec';

type Deploy = DeployBody;
interface Live {
  id: string;
  node_id: string;
  deploy_id: string | null;
  release_id: string | null;
  replaces: string | null;
  actual_status: string;
}

let cp: TestControlPlane;
let admin: ApiClient;
let customer: Customer;
let projectId: string;
let regionSeq = 0;

const liveOf = (appId: string) =>
  cp.db('allocations').where({ app_id: appId }).whereNull('stopped_at').orderBy('created_at').select<Live[]>('id', 'node_id', 'deploy_id', 'release_id', 'replaces', 'actual_status');
const liveOfDeploy = (deployId: string) => cp.db('allocations').where({ deploy_id: deployId }).whereNull('stopped_at').select<Live[]>('id', 'node_id', 'replaces', 'actual_status');
const report = (ids: readonly string[], actual_status: string, status_message: string | null = null) =>
  cp.db('allocations').whereIn('id', ids).update({ actual_status, status_message, reported_at: cp.db.fn.now() });
const setLiveness = (nodeId: string, liveness: 'online' | 'offline') => cp.db('nodes').where({ id: nodeId }).update({ liveness, last_heartbeat_at: cp.db.fn.now() });
const { finished, deploy, newApp: newAppIn } = deployHelpers(() => ({ api: customer.api, projectId }));
const newApp = (regionName: string, replicas: number) => newAppIn(regionName, replicas, 'c');

/** A region of its own (moves are region-wide) with three nodes. */
async function region(): Promise<{ region: string; nodes: string[] }> {
  const name = `conv-${++regionSeq}`;
  await ensureCatalog(admin, name);
  const nodes: string[] = [];
  for (let i = 0; i < 3; i++) nodes.push(await createNodeFixture(cp.db, name, { cpuMillicores: 4000, memoryMb: 8192, diskMb: 100_000 }));
  return { region: name, nodes };
}

/** Deploys and reports every replica healthy: the app serves that deploy's release. */
/** The deploy's live replicas, once it has placed `replicas` of them. */
function placedFor(deployId: string, replicas: number): Promise<Live[]> {
  return eventually(async () => {
    const rows = await liveOfDeploy(deployId);
    expect(rows).toHaveLength(replicas);
    return rows;
  }, 10_000);
}

/** A deploy whose replicas all report healthy and that succeeds; with what it placed. */
async function deployHealthy(appId: string, replicas: number): Promise<Deploy & { placed: Live[] }> {
  const d = await deploy(appId);
  const placed = await placedFor(d.id, replicas);
  await report(
    placed.map((r) => r.id),
    'healthy',
  );
  expect(await finished(d.id)).toMatchObject({ status: 'succeeded' });
  return { ...d, placed };
}

async function replacementOf(originalId: string): Promise<Live> {
  return eventually(async () => {
    const row = await cp.db('allocations').where({ replaces: originalId }).whereNull('stopped_at').first<Live | undefined>('id', 'node_id', 'deploy_id', 'release_id', 'replaces', 'actual_status');
    expect(row).toBeDefined();
    return row!;
  }, 10_000);
}

/** A few full engine passes: whatever the engine would still change, it changes here. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await cp.deploys.tick();
}

/** Exactly `replicas` live allocations, all of the app's current release. */
async function expectConverged(appId: string, replicas: number): Promise<Live[]> {
  await settle();
  const app = await cp.db('apps').where({ id: appId }).first<{ current_release_id: string }>('current_release_id');
  const live = await liveOf(appId);
  expect(live).toHaveLength(replicas);
  expect(live.every((a) => a.release_id === app.current_release_id)).toBe(true);
  return live;
}

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '10000', KARVON_MUTATION_BURST: '10000', KARVON_NODE_GRACE_SECONDS: '3600' });
  admin = await cp.adminClient();
  await ensureCatalog(admin, 'conv-0');
  customer = await registerCustomer(cp.api, 'convergence', { admin, tier: 'business' });
  projectId = (await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'convergence' })).body.id;
});

afterAll(async () => {
  await cp?.stop();
});

describe('replicas converge to the count, whatever the history (issue 12)', () => {
  it('a rollout that succeeds while an old replica is being drained retires the move with it', async () => {
    const r = await region();
    const appId = await newApp(r.region, 2);
    const first = await deployHealthy(appId, 2);
    const [x] = await liveOfDeploy(first.id);
    expect((await admin.patch(`/api/v1/admin/nodes/${x!.node_id}`, { status: 'draining' })).status).toBe(200);
    // The move is in flight (its replacement is not healthy) when the next release takes over.
    const moved = await replacementOf(x!.id);
    const { placed } = await deployHealthy(appId, 2);
    const live = await expectConverged(appId, 2);
    expect(live.map((a) => a.id).sort()).toEqual(placed.map((p) => p.id).sort());
    expect(await cp.db('allocations').where({ id: moved.id }).whereNull('stopped_at')).toHaveLength(0);
    await admin.patch(`/api/v1/admin/nodes/${x!.node_id}`, { status: 'active' });
  });

  it('a rollout superseded, then one that fails, while its replica is being moved leave only the serving release', async () => {
    const r = await region();
    const appId = await newApp(r.region, 2);
    const serving = await deployHealthy(appId, 2);
    const superseded = await deploy(appId);
    const [y] = await eventually(async () => {
      const rows = await liveOfDeploy(superseded.id);
      expect(rows).toHaveLength(2);
      return rows;
    }, 10_000);
    expect((await admin.patch(`/api/v1/admin/nodes/${y!.node_id}`, { status: 'draining' })).status).toBe(200);
    const moved = await replacementOf(y!.id);
    expect(moved.deploy_id).toBe(superseded.id);
    const failing = await deploy(appId);
    expect(await finished(superseded.id)).toMatchObject({ status: 'cancelled', error: { code: 'SUPERSEDED' } });
    // Cancelled means none of its replicas lives on, the move in flight included.
    await eventually(async () => expect(await liveOfDeploy(superseded.id)).toHaveLength(0), 10_000);
    const placed = await placedFor(failing.id, 2);
    await report(
      placed.map((p) => p.id),
      'failed',
      'unhealthy: no answer',
    );
    expect(await finished(failing.id)).toMatchObject({ status: 'failed' });
    const live = await expectConverged(appId, 2);
    expect(live.every((a) => a.deploy_id === serving.id)).toBe(true);
    await admin.patch(`/api/v1/admin/nodes/${y!.node_id}`, { status: 'active' });
  });

  it('a failover in flight when a rollout succeeds, then the node returns: no replica runs beside the count', async () => {
    const r = await region();
    const appId = await newApp(r.region, 2);
    const first = await deployHealthy(appId, 2);
    const [x] = await liveOfDeploy(first.id);
    await setLiveness(x!.node_id, 'offline');
    const moved = await replacementOf(x!.id);
    expect(moved.node_id).not.toBe(x!.node_id);
    const { placed } = await deployHealthy(appId, 2);
    // The replacement reports healthy late, and the lost node comes back.
    await report([moved.id], 'healthy');
    await setLiveness(x!.node_id, 'online');
    const live = await expectConverged(appId, 2);
    expect(live.map((a) => a.id).sort()).toEqual(placed.map((p) => p.id).sort());
  });

  it('a chain of moves called off when the first node returns is retired whole', async () => {
    const r = await region();
    const appId = await newApp(r.region, 1);
    const d = await deployHealthy(appId, 1);
    const [x] = await liveOfDeploy(d.id);
    await setLiveness(x!.node_id, 'offline');
    const first = await replacementOf(x!.id);
    // The replacement's node is lost too before it was healthy: a move off the move.
    await setLiveness(first.node_id, 'offline');
    const second = await replacementOf(first.id);
    expect([x!.node_id, first.node_id]).not.toContain(second.node_id);
    await setLiveness(x!.node_id, 'online');
    await eventually(async () => expect(await cp.db('allocations').where({ id: first.id }).whereNull('stopped_at')).toHaveLength(0), 10_000);
    const live = await expectConverged(appId, 1);
    expect(live.map((a) => a.id)).toEqual([x!.id]);
    await setLiveness(first.node_id, 'online');
  });

  it('retires live allocations beyond the count that nothing owns, keeping the healthy ones', async () => {
    const r = await region();
    const appId = await newApp(r.region, 2);
    const d = await deployHealthy(appId, 2);
    const [a1, a2] = await liveOfDeploy(d.id);
    const spec = (await cp.db('allocations').where({ id: a1!.id }).first<{ spec: AllocationSpec; release_id: string }>('spec', 'release_id'));
    // Left by some history: two replicas of the current release under a deploy long gone.
    const extras = await commitPlacements(cp.db, [
      { appId, releaseId: spec.release_id, deployId: 'dep_gone', resources: { cpuMillicores: 250, memoryMb: 128, diskMb: 512 }, nodeIds: [r.nodes[0]!, r.nodes[1]!], spec: spec.spec },
    ]);
    await report([extras[0]!.id], 'healthy');
    await report([a2!.id], 'starting');
    const live = await expectConverged(appId, 2);
    // healthy ones preferred: the current deploy's healthy replica and the healthy extra
    expect(live.map((a) => a.id).sort()).toEqual([a1!.id, extras[0]!.id].sort());
    // the reservations of the retired ones are released
    const [sum] = await cp.db('nodes').where({ region_id: r.region }).sum({ cpu: 'allocated_cpu_millicores' });
    expect(Number(sum!.cpu)).toBe(2 * 250);
  });

  it('holds a healthy replica of the old release while the current ones are not healthy yet', async () => {
    const r = await region();
    const appId = await newApp(r.region, 1);
    const old = await deployHealthy(appId, 1);
    const [retired] = await liveOfDeploy(old.id);
    const row = (await cp.db('allocations').where({ id: retired!.id }).first<{ spec: AllocationSpec; release_id: string }>('spec', 'release_id'));
    const current = await deployHealthy(appId, 1);
    const [c] = await liveOfDeploy(current.id);
    // A replica of the old release left live by some history, healthy, while the current one restarts.
    const [o] = await commitPlacements(cp.db, [
      { appId, releaseId: row.release_id, deployId: old.id, resources: { cpuMillicores: 250, memoryMb: 128, diskMb: 512 }, nodeIds: [r.nodes[0]!], spec: row.spec },
    ]);
    await report([o!.id], 'healthy');
    await report([c!.id], 'starting');
    await settle();
    expect((await liveOf(appId)).map((a) => a.id).sort()).toEqual([o!.id, c!.id].sort());
    await report([c!.id], 'healthy');
    const live = await expectConverged(appId, 1);
    expect(live.map((a) => a.id)).toEqual([c!.id]);
  });

  it('(engine stopped) retiring a replica takes its moves in flight along; the move itself keeps the replacement', async () => {
    const r = await region();
    const appId = await newApp(r.region, 1);
    const d = await deployHealthy(appId, 1);
    const [x] = await liveOfDeploy(d.id);
    // Last in the file: the engine is stopped so it neither calls these moves off nor trims them.
    await cp.deploys.stop();
    const row = (await cp.db('allocations').where({ id: x!.id }).first<{ spec: AllocationSpec; release_id: string }>('spec', 'release_id'));
    const place = async (replaces: string, nodeId: string) =>
      (await commitPlacements(cp.db, [{ appId, releaseId: row.release_id, deployId: d.id, replaces, resources: { cpuMillicores: 250, memoryMb: 128, diskMb: 512 }, nodeIds: [nodeId], spec: row.spec }]))[0]!.id;
    // x → x1 → x2 (a move off a move), both still in flight
    const x1 = await place(x!.id, r.nodes.find((n) => n !== x!.node_id)!);
    const x2 = await place(x1, r.nodes.find((n) => n !== x!.node_id)!);
    await retireAllocations(cp.db, [x1], { keepReplacements: true });
    expect((await liveOf(appId)).map((a) => a.id).sort()).toEqual([x!.id, x2].sort());
    const x3 = await place(x2, r.nodes.find((n) => n !== x!.node_id)!);
    expect(await retireAllocations(cp.db, [x!.id])).toBe(1);
    expect((await liveOf(appId)).map((a) => a.id).sort()).toEqual([x2, x3].sort());
    expect(await retireAllocations(cp.db, [x2])).toBe(2);
    expect(await liveOf(appId)).toHaveLength(0);
  });
});
