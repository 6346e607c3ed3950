import type { Db } from '../db/connect';
import type { Resources } from '../nodes/capacity';
import type { AllocationSpec } from './allocation-spec';
import { allocationColumns } from './allocation-rows';
import { heldForStates, readDirectStates, type DirectStates } from '../dispatch/direct-dispatch';
import { commitOf, wakeLocally } from '../dispatch/local-wakeups';
import { NODE_CHANNEL, wakeupsFor } from '../dispatch/node-wakeups';

/** Another plan took the capacity this one counted on: re-plan against a fresh snapshot. */
export class PlanConflict extends Error {
  constructor(readonly nodeIds: string[]) {
    super(`capacity changed on ${nodeIds.join(', ')}`);
  }
}

export interface PlacementToCommit {
  appId: string;
  releaseId: string | null;
  /** The deploy that placed these replicas, when one did (tells a restart's replicas from the old ones). */
  deployId?: string | null;
  /** the allocation this one replaces (a drain or failover move) */
  replaces?: string | null;
  resources: Resources;
  nodeIds: string[];
  spec: AllocationSpec;
}

export interface CommittedAllocation {
  id: string;
  nodeId: string;
}

/**
 * Writes a batch of placements in ONE transaction: for each target node a conditional update
 * re-checks that the reservation still fits (status, capacity) and adds it, bumping the node's
 * desired-state generation; if any node refuses, nothing is written (PlanConflict). Then the
 * allocations are inserted. The nodes' sockets are woken at commit: through NOTIFY for every
 * control plane, and in-process for this one's (dispatch/local-wakeups.ts). For nodes whose sockets
 * this process holds, the new desired states are read in the transaction and sent when the commit
 * returns (dispatch/direct-dispatch.ts); only those not sent then are woken here.
 */
export async function commitPlacements(db: Db, batch: readonly PlacementToCommit[]): Promise<CommittedAllocation[]> {
  const perNode = new Map<string, Resources & { count: number }>();
  for (const p of batch) {
    for (const nodeId of p.nodeIds) {
      const t = perNode.get(nodeId) ?? { cpuMillicores: 0, memoryMb: 0, diskMb: 0, count: 0 };
      t.cpuMillicores += p.resources.cpuMillicores;
      t.memoryMb += p.resources.memoryMb;
      t.diskMb += p.resources.diskMb;
      t.count += 1;
      perNode.set(nodeId, t);
    }
  }
  const deltas = [...perNode.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, d]) => ({ id, cpu: d.cpuMillicores, mem: d.memoryMb, disk: d.diskMb, n: d.count }));
  const ids = deltas.map((d) => d.id);
  // Only a commit made here (not a savepoint of the caller's transaction) may send at its return.
  const mayDirect = commitOf(db) === undefined;
  // Nodes whose sockets this process holds get their states at the commit's return, and no NOTIFY:
  // no other control plane holds them, and a transaction that NOTIFYs takes PostgreSQL's one
  // notification lock from its commit to its end (WAL flush included), which every other
  // notifying commit then waits for. Should a socket move meanwhile, the new holder sent the state
  // as its session became ready, or finds the change at its next poll.
  const heldHere = mayDirect ? heldForStates(ids) : new Set<string>();
  const notified = heldHere.size > 0 ? ids.filter((id) => !heldHere.has(id)) : ids;
  let direct: DirectStates | undefined;
  const committed = await db.transaction(async (trx) => {
    // ONE statement takes the row locks in id order first (the materialized FOR NO KEY UPDATE, the
    // lock the UPDATE takes anyway: unlike FOR UPDATE it does not wait for the key-share locks
    // that inserts referencing the node (tasks, allocations, metrics) hold to their commit. An UPDATE
    // ... FROM alone locks in whatever order its plan scans, and two batches, or a batch and the
    // liveness flush, could then deadlock), then re-checks and reserves, inserts the allocations
    // when every node took its reservation, and NOTIFYs the nodes (delivered only if the
    // transaction commits; this process's dispatchers are woken in-process at the commit). Three
    // round trips in all: begin, this, commit (a fourth reads the states of nodes held here).
    const wake = wakeupsFor(trx, notified, 'state');
    const rows = allocationColumns(batch);
    const reserved = await trx.raw<{ rows: Array<{ id: string }> }>(
      `with l as materialized (select id from nodes where id = any(?) order by id for no key update),
       u as (
         update nodes n set
           allocated_cpu_millicores = n.allocated_cpu_millicores + d.cpu,
           allocated_memory_mb = n.allocated_memory_mb + d.mem,
           allocated_disk_mb = n.allocated_disk_mb + d.disk,
           allocation_count = n.allocation_count + d.n,
           desired_generation = n.desired_generation + 1,
           updated_at = now()
         from l, (select * from json_to_recordset(?::json) as x(id text, cpu int, mem int, disk int, n int)) d
         where n.id = l.id and n.id = d.id and n.id = any(?)
           and n.revoked_at is null and n.admin_status = 'active' and n.liveness = 'online'
           and n.allocated_cpu_millicores + d.cpu <= n.capacity_cpu_millicores
           and n.allocated_memory_mb + d.mem <= n.capacity_memory_mb
           and n.allocated_disk_mb + d.disk <= n.capacity_disk_mb
           and n.allocation_count + d.n <= n.max_containers
         returning n.id),
       ins as (
         insert into allocations (id, app_id, release_id, deploy_id, replaces, node_id, cpu_millicores, memory_mb, disk_mb, desired_status, spec)
         select a.id, a.app_id, a.release_id, a.deploy_id, a.replaces, a.node_id, a.cpu, a.mem, a.disk, 'running', (?::jsonb) -> a.spec_at
         from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::int[], ?::int[])
           as a(id, app_id, release_id, deploy_id, replaces, node_id, cpu, mem, disk, spec_at)
         where (select count(*) from u) = ?),
       woken as (select pg_notify(?, p) from unnest(?::text[]) p)
       -- woken is referenced so that the NOTIFY runs (an unreferenced SELECT in WITH is never evaluated;
       -- an INSERT in WITH always runs)
       select id from u where (select count(*) from woken) >= 0`,
      // The redundant id list lets the planner use the primary key instead of scanning every
      // node (json_to_recordset is always estimated at 100 rows). The specs are one jsonb array,
      // parsed once; each row takes its element by index (allocation-rows.ts).
      [
        ids,
        JSON.stringify(deltas),
        ids,
        JSON.stringify(rows.specs),
        rows.id,
        rows.appId,
        // knex's binding type has no arrays with nulls; pg sends a null element as NULL.
        rows.releaseId as string[],
        rows.deployId as string[],
        rows.replaces as string[],
        rows.nodeId,
        rows.cpu,
        rows.memory,
        rows.disk,
        rows.specAt,
        deltas.length,
        NODE_CHANNEL,
        wake.payloads,
      ],
    );
    if (reserved.rows.length !== deltas.length) {
      const ok = new Set(reserved.rows.map((r) => r.id));
      throw new PlanConflict(deltas.map((d) => d.id).filter((id) => !ok.has(id)));
    }
    // The states of the nodes held by this process, read now and sent when the commit returns.
    direct = heldHere.size > 0 ? await readDirectStates(trx, [...heldHere]) : undefined;
    wake.woken();
    return rows.id.map((id, i): CommittedAllocation => ({ id, nodeId: rows.nodeId[i]! }));
  });
  if (direct) {
    // Those not sent (their session ended, or their state could not be built here) go to a flush.
    const read = direct.read;
    wakeLocally([...direct.send(), ...[...heldHere].filter((id) => !read.has(id))], 'state');
  }
  return committed;
}
