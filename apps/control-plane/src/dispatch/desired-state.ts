import type { DesiredAllocation, DesiredStatePayload } from '@karvon/protocol';
import type { Db } from '../db/connect';
import type { AllocationSpec } from '../planner/allocation-spec';

interface AllocationRow {
  id: string;
  app_id: string;
  cpu_millicores: number;
  memory_mb: number;
  desired_status: 'running' | 'stopped';
  spec: AllocationSpec;
}

/**
 * The node's complete desired state at its current generation, built from the database (never a
 * patch): every live allocation with what it runs. One statement, so the generation and the
 * allocations it describes come from one snapshot. Routes and certificates join in later.
 */
export async function loadDesiredState(db: Db, nodeId: string, sessionGeneration: number): Promise<DesiredStatePayload | undefined> {
  const res = await db.raw<{ rows: Array<{ desired_generation: string; allocations: AllocationRow[] }> }>(
    `select n.desired_generation,
       coalesce((select json_agg(a order by a.id) from (
         select id, app_id, cpu_millicores, memory_mb, desired_status, spec
         from allocations where node_id = n.id and stopped_at is null) a), '[]'::json) as allocations
     from nodes n where n.id = ? and n.revoked_at is null`,
    [nodeId],
  );
  const node = res.rows[0];
  if (!node) return undefined;
  const allocations: DesiredAllocation[] = node.allocations.map((r) => ({
    id: r.id,
    appId: r.app_id,
    tenantId: r.spec.tenantId,
    releaseId: r.spec.releaseId,
    releaseNumber: r.spec.releaseNumber,
    image: r.spec.image,
    env: r.spec.env,
    ...(r.spec.command ? { command: r.spec.command } : {}),
    port: r.spec.port,
    limits: { cpuMillicores: r.cpu_millicores, memoryMb: r.memory_mb, ...(r.spec.pidsLimit ? { pids: r.spec.pidsLimit } : {}) },
    healthCheck: r.spec.healthCheck,
    desiredStatus: r.desired_status,
  }));
  return { generation: Number(node.desired_generation), sessionGeneration, allocations, routes: [], certificates: [] };
}
