// The two changes to live allocations besides placing them: retiring (the allocation leaves its
// node's desired state, its reservation is released) and stopping/starting in place. Each is one
// transaction that bumps the touched nodes' desired-state generation and wakes them through
// NOTIFY at commit, taking node row locks in id order like the planner so the two never deadlock.
import type { Knex } from 'knex';
import type { Db } from '../db/connect';
import { inTransaction } from '../db/in-transaction';
import { notifyNodes } from '../dispatch/node-wakeups';

type Trx = Knex.Transaction;

async function lockNodesOf(trx: Trx, allocationIds: readonly string[]): Promise<void> {
  await trx.raw(
    `select id from nodes where id in (select node_id from allocations where id = any(?)) order by id for no key update`,
    [[...allocationIds]],
  );
}

/**
 * Retires live allocations (already retired ones are skipped, so a repeat changes nothing). A
 * retired replica also leaves the routes every node of its region serves, so the whole region's
 * nodes get a new generation (their rows locked up front, in id order).
 *
 * A replica is retired whole: a move in flight (a live allocation that `replaces` one retired
 * here, and any replacement of that one) goes with it. Before, the replacement outlived its
 * original and then stood on its own as an extra replica nothing owned (soak, issue 12: 5 healthy
 * of 2). Only the move itself — an original its healthy replacement took over from — passes
 * `keepReplacements`.
 */
export async function retireAllocations(db: Db | Trx, ids: readonly string[], opts: { keepReplacements?: boolean } = {}): Promise<number> {
  if (ids.length === 0) return 0;
  const run = async (trx: Trx) => {
    const allocationIds = opts.keepReplacements ? ids : await withLiveReplacements(trx, ids);
    const region = await trx.raw<{ rows: Array<{ id: string }> }>(
      `select id from nodes where revoked_at is null and region_id in (
         select n.region_id from nodes n join allocations a on a.node_id = n.id where a.id = any(?))
       order by id for no key update`,
      [[...allocationIds]],
    );
    await lockNodesOf(trx, allocationIds);
    const res = await trx.raw<{ rows: Array<{ node_id: string; cpu: number; mem: number; disk: number; n: number }> }>(
      `with retired as (
         update allocations set stopped_at = now(), updated_at = now()
         where id = any(?) and stopped_at is null
         returning node_id, cpu_millicores, memory_mb, disk_mb)
       select node_id, sum(cpu_millicores)::int as cpu, sum(memory_mb)::int as mem, sum(disk_mb)::int as disk, count(*)::int as n
       from retired group by node_id`,
      [[...allocationIds]],
    );
    if (res.rows.length === 0) return 0;
    await trx.raw(
      `update nodes n set
         allocated_cpu_millicores = greatest(0, n.allocated_cpu_millicores - d.cpu),
         allocated_memory_mb = greatest(0, n.allocated_memory_mb - d.mem),
         allocated_disk_mb = greatest(0, n.allocated_disk_mb - d.disk),
         allocation_count = greatest(0, n.allocation_count - d.n),
         updated_at = now()
       from json_to_recordset(?::json) as d(node_id text, cpu int, mem int, disk int, n int)
       where n.id = d.node_id`,
      [JSON.stringify(res.rows)],
    );
    const bumped = [...new Set([...region.rows.map((r) => r.id), ...res.rows.map((r) => r.node_id)])].sort();
    await trx('nodes').whereIn('id', bumped).update({ desired_generation: trx.raw('desired_generation + 1') });
    await notifyNodes(trx, bumped);
    return res.rows.reduce((sum, r) => sum + r.n, 0);
  };
  return inTransaction(db, run);
}

/**
 * The live ones of ids plus every live allocation that replaces one of them, transitively. Only
 * from live ones: the replacement of an already retired original is the replica now.
 */
async function withLiveReplacements(trx: Trx, ids: readonly string[]): Promise<string[]> {
  const res = await trx.raw<{ rows: Array<{ id: string }> }>(
    `with recursive chain(id) as (
       select id from allocations where id = any(?) and stopped_at is null
       union
       select a.id from allocations a join chain c on a.replaces = c.id where a.stopped_at is null)
     select id from chain`,
    [[...ids]],
  );
  return res.rows.map((r) => r.id);
}

/** Stops (containers kept) or starts an app's live allocations through desired state. */
export async function setAllocationsDesiredStatus(db: Db | Trx, appId: string, status: 'running' | 'stopped'): Promise<number> {
  return inTransaction(db, async (trx) => {
    const ids = (await trx('allocations').where({ app_id: appId }).whereNull('stopped_at').whereNot({ desired_status: status }).pluck('id')) as string[];
    if (ids.length === 0) return 0;
    await lockNodesOf(trx, ids);
    const changed = await trx.raw<{ rows: Array<{ node_id: string }> }>(
      `update allocations set desired_status = ?, updated_at = now() where id = any(?) and stopped_at is null returning node_id`,
      [status, ids],
    );
    const nodeIds = [...new Set(changed.rows.map((r) => r.node_id))].sort();
    await trx('nodes').whereIn('id', nodeIds).update({ desired_generation: trx.raw('desired_generation + 1'), updated_at: trx.fn.now() });
    await notifyNodes(trx, nodeIds);
    return changed.rows.length;
  });
}
