import type { AdminStatus, Liveness } from './node-status';

/** A `nodes` row as the views and the planner read it (see migrations 0001 and 0002). */
export interface NodeRow {
  id: string;
  name: string;
  region_id: string;
  labels: string[];
  admin_status: AdminStatus;
  liveness: Liveness;
  degraded: boolean;
  capacity_cpu_millicores: number;
  capacity_memory_mb: number;
  capacity_disk_mb: number;
  /** the planner's reservations: kept equal to the sum of the node's live allocations */
  allocated_cpu_millicores: number;
  allocated_memory_mb: number;
  allocated_disk_mb: number;
  allocation_count: number;
  max_containers: number;
  usage: { cpuPercent?: number; memoryUsedMb?: number; diskUsedMb?: number };
  container_count: number;
  last_heartbeat_at: Date | null;
  agent_version: string | null;
  facts: Record<string, unknown>;
  created_at: Date;
}
