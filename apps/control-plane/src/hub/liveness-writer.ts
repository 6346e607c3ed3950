import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { LiveNodes } from './live-nodes';

export interface LivenessTimings {
  heartbeatSeconds: number;
  graceSeconds: number;
}

/**
 * Once a second, in ONE transaction whatever the fleet size: stamp every node that sent a
 * heartbeat (database clock), store its usage, write finished one-minute metric points, and sweep
 * liveness (online → suspect after two missed intervals, → offline after the grace). The sweep is
 * a pair of conditional updates on the database clock, so two control planes running it at once
 * agree and nothing depends on their own clocks.
 */
export function createLivenessWriter(deps: { db: Db; live: LiveNodes; logger: Logger; timings: LivenessTimings; periodMs?: number }) {
  const { db, live, logger } = deps;
  const suspectAfter = deps.timings.heartbeatSeconds * 2 + 1;
  const offlineAfter = deps.timings.graceSeconds;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let transactions = 0;
  const startedAt = Date.now();

  async function flushOnce(): Promise<void> {
    const { dirty, stamped, points, allocations } = live.drain();
    await db.transaction(async (trx) => {
      // Same lock order as the planner (by id), so a flush and a plan commit cannot deadlock on
      // the nodes they both touch.
      const touched = [...dirty.map((d) => d.nodeId), ...stamped].sort();
      if (touched.length > 0) await trx.raw('select id from nodes where id = any(?) order by id for update', [touched]);
      if (dirty.length > 0) {
        await trx.raw(
          `update nodes n set last_heartbeat_at = now(), liveness = 'online', usage = v.usage::jsonb,
             container_count = v.container_count::int, degraded = v.degraded::boolean, updated_at = now()
           from (select * from json_to_recordset(?::json) as x(id text, usage text, container_count int, degraded boolean)) v
           where n.id = v.id and n.revoked_at is null`,
          [JSON.stringify(dirty.map((d) => ({ id: d.nodeId, usage: JSON.stringify(d.usage), container_count: d.usage.containerCount, degraded: d.degraded })))],
        );
      }
      if (stamped.length > 0) {
        await trx.raw(`update nodes set last_heartbeat_at = now(), liveness = 'online' where id = any(?) and revoked_at is null`, [stamped]);
      }
      if (points.length > 0) {
        await trx.raw(
          `insert into node_metrics (node_id, at, cpu_percent, memory_used_mb, disk_used_mb, load1, net_rx_bytes, net_tx_bytes, container_count)
           select p.node_id, to_timestamp(p.at / 1000.0), p.cpu, p.mem, p.disk, p.load1, p.rx, p.tx, p.containers
           from json_to_recordset(?::json) as p(node_id text, at bigint, cpu real, mem int, disk int, load1 real, rx bigint, tx bigint, containers int)
           where exists (select 1 from nodes where id = p.node_id)
           on conflict (node_id, at) do update set cpu_percent = excluded.cpu_percent, memory_used_mb = excluded.memory_used_mb,
             disk_used_mb = excluded.disk_used_mb, load1 = excluded.load1, net_rx_bytes = excluded.net_rx_bytes,
             net_tx_bytes = excluded.net_tx_bytes, container_count = excluded.container_count`,
          [
            JSON.stringify(
              points.map((p) => ({
                node_id: p.nodeId,
                at: p.at,
                cpu: p.cpuPercent,
                mem: Math.round(p.usage.memoryUsedMb),
                disk: Math.round(p.usage.diskUsedMb),
                load1: p.usage.load1,
                rx: Math.round(p.usage.netRxBytes),
                tx: Math.round(p.usage.netTxBytes),
                containers: p.usage.containerCount,
              })),
            ),
          ],
        );
      }
      if (allocations.length > 0) {
        // A node reports only its own allocations: the node_id condition ignores any other id.
        await trx.raw(
          `update allocations a set actual_status = r.state, upstream = r.upstream, restarts = r.restarts,
             started_at = coalesce(r.started_at, a.started_at), status_message = r.message, cpu_percent = r.cpu,
             memory_used_mb = r.mem, reported_at = now(), updated_at = now()
           from json_to_recordset(?::json) as r(node_id text, id text, state text, upstream text, restarts int,
             started_at timestamptz, message text, cpu real, mem real)
           where a.id = r.id and a.node_id = r.node_id`,
          [
            JSON.stringify(
              allocations.flatMap((report) =>
                report.allocations.map((s) => ({
                  node_id: report.nodeId,
                  id: s.allocationId,
                  state: s.state,
                  upstream: s.upstream ?? null,
                  restarts: s.restarts,
                  started_at: s.startedAt ?? null,
                  message: s.message ?? null,
                  cpu: s.cpuPercent ?? null,
                  mem: s.memoryMb ?? null,
                })),
              ),
            ),
          ],
        );
      }
      // Right after this process starts, agents are still reconnecting to it with backoff and
      // their last stamps are as old as our downtime: for one grace, only nodes heard since we
      // started (whose silence is real) are swept.
      const since = Date.now() - startedAt < offlineAfter * 1000 ? startedAt / 1000 : 0;
      await trx.raw(
        `update nodes set liveness = 'offline', updated_at = now()
         where liveness <> 'offline' and revoked_at is null and last_heartbeat_at < now() - make_interval(secs => ?)
           and last_heartbeat_at >= to_timestamp(?)`,
        [offlineAfter, since],
      );
      await trx.raw(
        `update nodes set liveness = 'suspect', updated_at = now()
         where liveness = 'online' and revoked_at is null and last_heartbeat_at < now() - make_interval(secs => ?)
           and last_heartbeat_at >= to_timestamp(?)`,
        [suspectAfter, since],
      );
    });
    transactions += 1;
  }

  function tick(): void {
    if (running) return; // a slow database must not pile up flushes
    running = flushOnce()
      .catch((err: unknown) => logger.warn({ err }, 'liveness flush failed; will retry'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    start() {
      timer = setInterval(tick, deps.periodMs ?? 1_000);
      timer.unref();
    },
    /** flushes now (tests, shutdown) */
    async flush(): Promise<void> {
      if (running) await running;
      await flushOnce();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      if (running) await running;
    },
    get transactions() {
      return transactions;
    },
  };
}

export type LivenessWriter = ReturnType<typeof createLivenessWriter>;
