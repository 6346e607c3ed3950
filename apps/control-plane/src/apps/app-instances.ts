// What runs for an app right now, from the agents' latest heartbeats (the liveness writer keeps
// the allocation rows current), and its metrics series from the stored 1-minute points.
import type { Db } from '../db/connect';

export interface InstanceView {
  id: string;
  nodeId: string;
  status: string;
  release: number | null;
  startedAt: string | null;
  restarts: number;
  cpuPercent: number | null;
  memoryMb: number | null;
  upstream: string | null;
  message: string | null;
  reportedAt: string | null;
}

interface InstanceRow {
  id: string;
  node_id: string;
  actual_status: string;
  desired_status: string;
  release_number: number | null;
  started_at: Date | null;
  restarts: number;
  cpu_percent: number | null;
  memory_used_mb: number | null;
  upstream: string | null;
  status_message: string | null;
  reported_at: Date | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export async function listInstances(db: Db, appId: string): Promise<InstanceView[]> {
  const res = await db.raw<{ rows: InstanceRow[] }>(
    `select a.id, a.node_id, a.actual_status, a.desired_status, r.number as release_number, a.started_at, a.restarts,
            a.cpu_percent, a.memory_used_mb, a.upstream, a.status_message, a.reported_at
     from allocations a left join releases r on r.id = a.release_id
     where a.app_id = ? and a.stopped_at is null
     order by a.created_at, a.id`,
    [appId],
  );
  return res.rows.map((r) => ({
    id: r.id,
    nodeId: r.node_id,
    status: r.actual_status,
    release: r.release_number,
    startedAt: iso(r.started_at),
    restarts: r.restarts,
    cpuPercent: r.cpu_percent,
    memoryMb: r.memory_used_mb,
    upstream: r.actual_status === 'healthy' ? r.upstream : null,
    message: r.status_message,
    reportedAt: iso(r.reported_at),
  }));
}

export interface MetricPoint {
  at: string;
  instances: number;
  cpuPercent: number;
  memoryMb: number;
  /** bytes received/sent during this minute, summed over the instances */
  netRxBytes: number;
  netTxBytes: number;
}

/** One point per minute since `since`, summed over the app's instances. */
export async function appMetrics(db: Db, appId: string, since: Date): Promise<MetricPoint[]> {
  // Network numbers are counters since each container started: the per-minute traffic is the
  // difference from the instance's previous point (a restart resets the counter: counted from 0).
  const res = await db.raw<{ rows: Array<{ at: Date; instances: string; cpu: number | null; mem: number | null; rx: string | null; tx: string | null }> }>(
    `with p as (
       select at, allocation_id, cpu_percent, memory_mb,
              net_rx_bytes - coalesce(lag(net_rx_bytes) over w, 0) as rx,
              net_tx_bytes - coalesce(lag(net_tx_bytes) over w, 0) as tx
       from allocation_metrics where app_id = ? and at >= ?::timestamptz - interval '1 minute'
       window w as (partition by allocation_id order by at))
     select at, count(*) as instances, sum(cpu_percent) as cpu, sum(memory_mb) as mem,
            sum(case when rx < 0 then 0 else rx end) as rx, sum(case when tx < 0 then 0 else tx end) as tx
     from p where at >= ? group by at order by at`,
    [appId, since.toISOString(), since.toISOString()],
  );
  return res.rows.map((r) => ({
    at: new Date(r.at).toISOString(),
    instances: Number(r.instances),
    cpuPercent: Math.round((r.cpu ?? 0) * 10) / 10,
    memoryMb: Math.round((r.mem ?? 0) * 10) / 10,
    netRxBytes: Number(r.rx ?? 0),
    netTxBytes: Number(r.tx ?? 0),
  }));
}
