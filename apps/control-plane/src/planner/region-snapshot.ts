import type { Db } from '../db/connect';
import type { NodeRow } from '../nodes/node-row';
import { nodeStatus } from '../nodes/node-status';
import type { NodeSnapshot, Snapshot } from '../scheduler';

type Row = NodeRow & { app_replicas: string | null; running_builds: string | null };

/**
 * The scheduler's input for one region, read in one query: every node with its reservations (the
 * counters the planner maintains) and the app's replicas per node for anti-affinity.
 */
export async function loadRegionSnapshot(db: Db, region: string, appId: string, now: number): Promise<Snapshot> {
  const rows = await db('nodes as n')
    .where('n.region_id', region)
    .whereNull('n.revoked_at')
    .select<Row[]>(
      'n.*',
      db.raw(`(select count(*) from allocations a where a.node_id = n.id and a.app_id = ? and a.stopped_at is null) as app_replicas`, [appId]),
      db.raw(`(select count(*) from builds b where b.node_id = n.id and b.status = 'running') as running_builds`),
    );
  const nodes: NodeSnapshot[] = rows.map((r) => {
    const cores = r.capacity_cpu_millicores;
    return {
      id: r.id,
      region: r.region_id,
      labels: r.labels,
      status: nodeStatus(r.admin_status, r.liveness),
      degraded: r.degraded,
      capacity: { cpuMillicores: r.capacity_cpu_millicores, memoryMb: r.capacity_memory_mb, diskMb: r.capacity_disk_mb },
      allocated: { cpuMillicores: r.allocated_cpu_millicores, memoryMb: r.allocated_memory_mb, diskMb: r.allocated_disk_mb },
      usage: {
        cpuMillicores: Math.round(((r.usage.cpuPercent ?? 0) / 100) * cores),
        memoryMb: r.usage.memoryUsedMb ?? 0,
        diskMb: r.usage.diskUsedMb ?? 0,
      },
      maxContainers: r.max_containers,
      containerCount: r.allocation_count,
      replicasByApp: Number(r.app_replicas) > 0 ? { [appId]: Number(r.app_replicas) } : {},
      runningBuilds: Number(r.running_builds ?? 0),
    };
  });
  return { now, nodes };
}
