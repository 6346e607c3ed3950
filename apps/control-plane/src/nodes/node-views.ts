import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { Resources } from './capacity';
import type { NodeRow } from './node-row';
import { nodeStatus, type Liveness, type NodeStatus } from './node-status';

export interface NodeView {
  id: string;
  name: string;
  region: string;
  labels: string[];
  /** `drained`: draining and nothing left on it (every allocation moved) */
  status: NodeStatus | 'drained';
  liveness: Liveness;
  degraded: boolean;
  capacity: Resources;
  allocated: Resources;
  usage: { cpuPercent: number; memoryMb: number; diskMb: number };
  containerCount: number;
  lastHeartbeatAt: string | null;
  agentVersion: string | null;
  facts: Record<string, unknown>;
  createdAt: string;
}


function toView(r: NodeRow): NodeView {
  return {
    id: r.id,
    name: r.name,
    region: r.region_id,
    labels: r.labels,
    status: r.admin_status === 'draining' && r.allocation_count === 0 ? 'drained' : nodeStatus(r.admin_status, r.liveness),
    liveness: r.liveness,
    degraded: r.degraded,
    capacity: { cpuMillicores: r.capacity_cpu_millicores, memoryMb: r.capacity_memory_mb, diskMb: r.capacity_disk_mb },
    allocated: { cpuMillicores: r.allocated_cpu_millicores, memoryMb: r.allocated_memory_mb, diskMb: r.allocated_disk_mb },
    usage: { cpuPercent: r.usage.cpuPercent ?? 0, memoryMb: r.usage.memoryUsedMb ?? 0, diskMb: r.usage.diskUsedMb ?? 0 },
    containerCount: r.container_count,
    lastHeartbeatAt: r.last_heartbeat_at ? r.last_heartbeat_at.toISOString() : null,
    agentVersion: r.agent_version,
    facts: r.facts,
    createdAt: r.created_at.toISOString(),
  };
}

function nodesQuery(db: Db) {
  return db('nodes as n').whereNull('n.revoked_at').select('n.*');
}

export async function listNodes(db: Db, filter: { region?: string; limit: number; cursor?: string }): Promise<{ items: NodeView[]; nextCursor: string | null }> {
  const q = nodesQuery(db).orderBy('n.id').limit(filter.limit + 1);
  if (filter.region) void q.where('n.region_id', filter.region);
  if (filter.cursor) void q.where('n.id', '>', filter.cursor);
  const rows = await q.then((r) => r as NodeRow[]);
  const page = rows.slice(0, filter.limit).map(toView);
  return { items: page, nextCursor: rows.length > filter.limit ? page[page.length - 1]!.id : null };
}

export async function getNode(db: Db, id: string): Promise<NodeView> {
  const row = await nodesQuery(db).where('n.id', id).first().then((r) => r as NodeRow | undefined);
  if (!row) throw new DomainError('NOT_FOUND', 'node not found');
  return toView(row);
}
