import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { notifyNodes } from '../dispatch/node-wakeups';
import type { AdminStatus } from './node-status';

export async function updateNode(db: Db, id: string, patch: { status?: AdminStatus; labels?: string[] }): Promise<void> {
  const changes: Record<string, unknown> = { updated_at: db.fn.now() };
  if (patch.status) changes.admin_status = patch.status;
  if (patch.labels) changes.labels = JSON.stringify(patch.labels);
  const n = await db('nodes').where({ id }).whereNull('revoked_at').update(changes);
  if (n === 0) throw new DomainError('NOT_FOUND', 'node not found');
}

/** Revokes the node's credential for good; the caller closes its socket. */
export async function revokeNode(db: Db, id: string): Promise<void> {
  await db.transaction(async (trx) => {
    const n = await trx('nodes').where({ id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now(), liveness: 'offline', updated_at: trx.fn.now() });
    if (n === 0) throw new DomainError('NOT_FOUND', 'node not found');
    // Whichever control plane holds the node's socket is woken and closes it.
    await notifyNodes(trx, [id], 'state');
  });
}

export interface MetricPoint {
  at: string;
  cpuPercent: number;
  memoryUsedMb: number;
  diskUsedMb: number;
  load1: number | null;
  netRxBytes: number | null;
  netTxBytes: number | null;
  containerCount: number;
}

export async function nodeMetrics(db: Db, id: string, since: Date): Promise<MetricPoint[]> {
  const exists = await db('nodes').where({ id }).whereNull('revoked_at').first<{ id: string } | undefined>('id');
  if (!exists) throw new DomainError('NOT_FOUND', 'node not found');
  const rows = await db('node_metrics')
    .where({ node_id: id })
    .where('at', '>=', since)
    .orderBy('at')
    .limit(20_160)
    .select<Array<Record<string, unknown>>>('*');
  return rows.map((r) => ({
    at: (r.at as Date).toISOString(),
    cpuPercent: Number(r.cpu_percent),
    memoryUsedMb: Number(r.memory_used_mb),
    diskUsedMb: Number(r.disk_used_mb),
    load1: r.load1 === null ? null : Number(r.load1),
    netRxBytes: r.net_rx_bytes === null ? null : Number(r.net_rx_bytes),
    netTxBytes: r.net_tx_bytes === null ? null : Number(r.net_tx_bytes),
    containerCount: Number(r.container_count),
  }));
}

export interface RegionCapacity {
  region: string;
  nodes: Record<string, number>;
  total: { cpuMillicores: number; memoryMb: number; diskMb: number };
  allocated: { cpuMillicores: number; memoryMb: number; diskMb: number };
  used: { cpuMillicores: number; memoryMb: number; diskMb: number };
}

/** Per region: nodes by status and resources total / allocated / in use (from heartbeats). */
export function capacityByRegion(
  nodes: ReadonlyArray<{ region: string; status: string; capacity: RegionCapacity['total']; allocated: RegionCapacity['total']; usage: { cpuPercent: number; memoryMb: number; diskMb: number }; facts: Record<string, unknown> }>,
): RegionCapacity[] {
  const byRegion = new Map<string, RegionCapacity>();
  const zero = () => ({ cpuMillicores: 0, memoryMb: 0, diskMb: 0 });
  for (const n of nodes) {
    let r = byRegion.get(n.region);
    if (!r) {
      r = { region: n.region, nodes: {}, total: zero(), allocated: zero(), used: zero() };
      byRegion.set(n.region, r);
    }
    r.nodes[n.status] = (r.nodes[n.status] ?? 0) + 1;
    for (const k of ['cpuMillicores', 'memoryMb', 'diskMb'] as const) {
      r.total[k] += n.capacity[k];
      r.allocated[k] += n.allocated[k];
    }
    const cores = Number((n.facts.cpu as { cores?: number } | undefined)?.cores ?? 0);
    r.used.cpuMillicores += Math.round((n.usage.cpuPercent / 100) * cores * 1000);
    r.used.memoryMb += n.usage.memoryMb;
    r.used.diskMb += n.usage.diskMb;
  }
  return [...byRegion.values()].sort((a, b) => a.region.localeCompare(b.region));
}
