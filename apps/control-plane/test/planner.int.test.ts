// The planner against a real PostgreSQL: all-or-nothing commits, reasons on failure, and no
// overcommit when two control planes plan onto the same nodes at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Db } from '../src/db/connect';
import { createPlanner } from '../src/planner/planner';
import { createRng } from '../src/scheduler';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { createAppFixture, createNodeFixture } from '../../../test/fixtures';

let cp: TestControlPlane;
const pools: Db[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(async () => {
  for (const p of pools) await p.destroy();
  await cp?.stop();
});

const small = { cpuMillicores: 500, memoryMb: 256, diskMb: 100 };

describe('planner', () => {
  it('commits allocations, reservations and a generation bump in one go', async () => {
    const node = await createNodeFixture(cp.db, 'plan-1', { cpuMillicores: 4000, memoryMb: 4096, diskMb: 10_000 });
    const app = await createAppFixture(cp.db, 'plan-1');
    const res = await cp.planner.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: 'plan-1', resources: small, replicas: 3, spec: app.spec });
    expect(res.ok).toBe(true);
    const row = await cp.db('nodes').where({ id: node }).first<Record<string, number | string>>();
    expect(row).toMatchObject({ allocated_cpu_millicores: 1500, allocated_memory_mb: 768, allocation_count: 3, desired_generation: '1' });
    expect(await cp.db('allocations').where({ app_id: app.appId, node_id: node })).toHaveLength(3);
    // The admin view shows the same reservations the planner keeps.
    const { getNode } = await import('../src/nodes/node-views');
    expect((await getNode(cp.db, node)).allocated).toEqual({ cpuMillicores: 1500, memoryMb: 768, diskMb: 300 });
  });

  it('fails as a whole with a reason per node and writes nothing', async () => {
    const a = await createNodeFixture(cp.db, 'plan-2', { cpuMillicores: 1000, memoryMb: 512, diskMb: 1000 });
    const b = await createNodeFixture(cp.db, 'plan-2', { cpuMillicores: 1000, memoryMb: 512, diskMb: 1000 });
    await cp.db('nodes').where({ id: b }).update({ admin_status: 'draining' });
    const app = await createAppFixture(cp.db, 'plan-2');
    const res = await cp.planner.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: 'plan-2', resources: { ...small, memoryMb: 1024 }, replicas: 1, spec: app.spec });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.failure.message).toMatch(/^0 of 2 nodes in plan-2: 1 (insufficient memory, 1 draining|draining, 1 insufficient memory)$/);
    expect(await cp.db('allocations').where({ app_id: app.appId })).toHaveLength(0);
    const gens = await cp.db('nodes').whereIn('id', [a, b]).pluck('desired_generation');
    expect(gens).toEqual(['0', '0']);
  });

  it('two control planes planning at once never overcommit a node', async () => {
    const nodes = await Promise.all([1, 2, 3].map(() => createNodeFixture(cp.db, 'plan-3', { cpuMillicores: 2000, memoryMb: 8192, diskMb: 100_000 })));
    const app = await createAppFixture(cp.db, 'plan-3');
    // Two planners, each with its own connection pool, as two processes would have.
    const planners = [0, 1].map((i) => {
      const db = connectDatabase(cp.databaseUrl);
      pools.push(db);
      return createPlanner({ db, rng: createRng(i + 1) });
    });
    const requests = Array.from({ length: 40 }, (_, i) =>
      planners[i % 2]!.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: 'plan-3', resources: small, replicas: 1, policy: 'pack', spec: app.spec }),
    );
    const results = await Promise.all(requests);
    const placed = results.filter((r) => r.ok).length;
    expect(placed).toBe(12); // 3 nodes × 2000m / 500m
    for (const r of results) if (!r.ok) expect(r.failure.reasons.length).toBeGreaterThan(0);
    for (const id of nodes) {
      const n = await cp.db('nodes').where({ id }).first<{ allocated_cpu_millicores: number; capacity_cpu_millicores: number; allocation_count: number }>();
      const sum = await cp.db('allocations').where({ node_id: id }).sum<{ s: string }[]>({ s: 'cpu_millicores' });
      expect(n.allocated_cpu_millicores).toBeLessThanOrEqual(n.capacity_cpu_millicores);
      expect(n.allocated_cpu_millicores).toBe(Number(sum[0]!.s ?? 0));
    }
    expect(results.some((r) => r.attempts > 1)).toBe(true);
  });

  it('commits a batch of several apps with each row carrying its own app, release, sizes and spec', async () => {
    const { commitPlacements } = await import('../src/planner/commit-placements');
    const a = await createNodeFixture(cp.db, 'plan-5', { cpuMillicores: 4000, memoryMb: 4096, diskMb: 10_000 });
    const b = await createNodeFixture(cp.db, 'plan-5', { cpuMillicores: 4000, memoryMb: 4096, diskMb: 10_000 });
    const one = await createAppFixture(cp.db, 'plan-5');
    const two = await createAppFixture(cp.db, 'plan-5');
    const twoSpec = { ...two.spec, env: { GREETING: 'hej' }, command: ['node', 'server.js'] };
    const big = { cpuMillicores: 1000, memoryMb: 1024, diskMb: 2048 };
    const committed = await commitPlacements(cp.db, [
      { appId: one.appId, releaseId: one.releaseId, resources: small, nodeIds: [a, b], spec: one.spec },
      { appId: two.appId, releaseId: null, deployId: null, replaces: null, resources: big, nodeIds: [b], spec: twoSpec },
      // The same spec object again: sent once, still written to each row.
      { appId: one.appId, releaseId: one.releaseId, resources: small, nodeIds: [a], spec: one.spec },
    ]);
    expect(committed.map((c) => c.nodeId)).toEqual([a, b, b, a]);
    type Row = { id: string; app_id: string; release_id: string | null; node_id: string; cpu_millicores: number; memory_mb: number; disk_mb: number; spec: unknown };
    const columns = ['id', 'app_id', 'release_id', 'node_id', 'cpu_millicores', 'memory_mb', 'disk_mb', 'spec'];
    const rows = await cp.db('allocations').whereIn('id', committed.map((c) => c.id)).select<Row[]>(columns);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const expected = [
      { app_id: one.appId, release_id: one.releaseId, node_id: a, cpu_millicores: 500, memory_mb: 256, disk_mb: 100, spec: one.spec },
      { app_id: one.appId, release_id: one.releaseId, node_id: b, cpu_millicores: 500, memory_mb: 256, disk_mb: 100, spec: one.spec },
      { app_id: two.appId, release_id: null, node_id: b, cpu_millicores: 1000, memory_mb: 1024, disk_mb: 2048, spec: twoSpec },
      { app_id: one.appId, release_id: one.releaseId, node_id: a, cpu_millicores: 500, memory_mb: 256, disk_mb: 100, spec: one.spec },
    ];
    expect(committed.map((c) => byId.get(c.id))).toEqual(committed.map((c, i) => ({ id: c.id, ...expected[i] })));
    const nodes = await cp.db('nodes').whereIn('id', [a, b]).orderBy('id').select<Array<{ id: string; allocated_cpu_millicores: number; allocation_count: number }>>('id', 'allocated_cpu_millicores', 'allocation_count');
    expect(Object.fromEntries(nodes.map((n) => [n.id, [n.allocated_cpu_millicores, n.allocation_count]]))).toEqual({ [a]: [1000, 2], [b]: [1500, 2] });
  });

  it('does not wait for an open transaction that only inserted rows referencing the node', async () => {
    const { commitPlacements } = await import('../src/planner/commit-placements');
    const node = await createNodeFixture(cp.db, 'plan-4', { cpuMillicores: 4000, memoryMb: 4096, diskMb: 10_000 });
    const app = await createAppFixture(cp.db, 'plan-4');
    // A task queued for the node and not yet committed: its foreign key holds a key-share lock.
    const other = connectDatabase(cp.databaseUrl);
    pools.push(other);
    const trx = await other.transaction();
    try {
      await trx('tasks').insert({ id: `task_fk_${node}`, node_id: node, kind: 'noop', payload: JSON.stringify({ echo: 'x' }), idempotency_key: `fk-${node}`, deadline: new Date(Date.now() + 60_000) });
      const placed = commitPlacements(cp.db, [{ appId: app.appId, releaseId: app.releaseId, resources: small, nodeIds: [node], spec: app.spec }]);
      const outcome = await Promise.race([placed.then(() => 'committed'), new Promise((r) => setTimeout(() => r('waiting'), 3_000))]);
      expect(outcome).toBe('committed');
    } finally {
      await trx.rollback();
    }
    expect(await cp.db('allocations').where({ app_id: app.appId, node_id: node })).toHaveLength(1);
  });
});
