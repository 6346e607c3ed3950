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
 * patch): every live allocation with what it runs. Routes and certificates join in later.
 */
export async function loadDesiredState(db: Db, nodeId: string, sessionGeneration: number): Promise<DesiredStatePayload | undefined> {
  return db.transaction(
    async (trx) => {
      const node = await trx('nodes').where({ id: nodeId }).whereNull('revoked_at').first<{ desired_generation: string } | undefined>('desired_generation');
      if (!node) return undefined;
      const rows = await trx('allocations')
        .where({ node_id: nodeId })
        .whereNull('stopped_at')
        .orderBy('id')
        .select<AllocationRow[]>('id', 'app_id', 'cpu_millicores', 'memory_mb', 'desired_status', 'spec');
      const allocations: DesiredAllocation[] = rows.map((r) => ({
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
    },
    // One consistent snapshot: the generation and the allocations it describes.
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
