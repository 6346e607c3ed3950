import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { AllocationPointRow, DirtyNode, LiveNodes, MetricPointRow } from './live-nodes';
import { bumpRegionNodes } from '../routing/region-generation';

export interface LivenessTimings {
  heartbeatSeconds: number;
  graceSeconds: number;
}

/** A state change waits this long for others to join its flush. */
const STATE_CHANGE_DELAY_MS = 10;
/** Flushes brought forward by state changes start at least this far apart (≤ 4 transactions/s while changes stream in). */
const STATE_CHANGE_GAP_MS = 250;

/**
 * Once a second, in ONE transaction whatever the fleet size: stamp every node that sent a
 * heartbeat (database clock), store its usage, write finished one-minute metric points (of nodes
 * and of allocations: one row per allocation and minute, its last sample), and sweep
 * liveness (online → suspect after two missed intervals, → offline after the grace). The sweep is
 * a conditional update on the database clock, so two control planes running it at once agree and
 * nothing depends on their own clocks.
 *
 * A heartbeat that changes an allocation's state or upstream (a replica became healthy, failed,
 * was started) brings the next flush forward (LiveNodes.onStateChange): routes and rollouts follow
 * that state, and a second of delay is a second on every deploy. Such flushes are coalesced and at
 * least STATE_CHANGE_GAP_MS apart, and the next regular flush comes a period after the last flush
 * of either kind, so plain heartbeats still cost one transaction a second. Listeners (`onStateChanges`, the deploy
 * engine) hear of a flush that wrote a state change once it committed.
 */
export function createLivenessWriter(deps: { db: Db; live: LiveNodes; logger: Logger; timings: LivenessTimings; periodMs?: number }) {
  const { db, live, logger } = deps;
  const suspectAfter = deps.timings.heartbeatSeconds * 2 + 1;
  const offlineAfter = deps.timings.graceSeconds;
  const periodMs = deps.periodMs ?? 1_000;
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let started = false;
  let stopped = false;
  /** a state change arrived that no flush has taken yet */
  let changeWaiting = false;
  let lastFlushAt = Number.NEGATIVE_INFINITY;
  let lastEarlyAt = Number.NEGATIVE_INFINITY;
  let transactions = 0;
  const listeners: Array<() => void> = [];
  const startedAt = Date.now();

  async function flushOnce(): Promise<void> {
    lastFlushAt = Date.now();
    changeWaiting = false;
    const { dirty, stamped, points, allocations, allocationPoints, stateChanged } = live.drain();
    let rerouted: string[] = [];
    await db.transaction(async (trx) => {
      // ONE statement locks, in id order as the planner does (so a flush and a plan commit cannot
      // deadlock on the nodes they both touch), the nodes heard since the last flush and those the
      // liveness sweep will move (online → suspect after two missed intervals, → offline after the
      // grace): one scan of the nodes a second, and the locks are taken once it is done, not held
      // through it. Id lists go as one JSON text: a bound array is escaped element by element by
      // pg and walked again by knex, a per-heartbeat cost in this process.
      // Right after this process starts, agents are still reconnecting to it with backoff and
      // their last stamps are as old as our downtime: for one grace, only nodes heard since we
      // started (whose silence is real) are swept.
      const since = Date.now() - startedAt < offlineAfter * 1000 ? startedAt / 1000 : 0;
      const touched = JSON.stringify([...dirty.map((d) => d.nodeId), ...stamped]);
      const locked = await trx.raw<{ rows: Array<{ id: string; heard: boolean }> }>(
        `with heard as (select json_array_elements_text(?::json) as id)
         select n.id, n.id in (select id from heard) as heard from nodes n
         where n.id in (select id from heard)
           or (n.revoked_at is null and n.last_heartbeat_at >= to_timestamp(?)
             and ((n.liveness <> 'offline' and n.last_heartbeat_at < now() - make_interval(secs => ?))
               or (n.liveness = 'online' and n.last_heartbeat_at < now() - make_interval(secs => ?))))
         order by n.id for no key update of n`,
        [touched, since, offlineAfter, suspectAfter],
      );
      const silent = locked.rows.filter((r) => !r.heard).map((r) => r.id);
      if (silent.length > 0) {
        // The same conditions again, on the rows as locked (a heartbeat may have been stamped meanwhile).
        await trx.raw(
          `update nodes set liveness = case when last_heartbeat_at < now() - make_interval(secs => ?) then 'offline' else 'suspect' end, updated_at = now()
           where id in (select json_array_elements_text(?::json)) and revoked_at is null and last_heartbeat_at >= to_timestamp(?)
             and ((liveness <> 'offline' and last_heartbeat_at < now() - make_interval(secs => ?))
               or (liveness = 'online' and last_heartbeat_at < now() - make_interval(secs => ?)))`,
          [offlineAfter, JSON.stringify(silent), since, offlineAfter, suspectAfter],
        );
      }
      if (dirty.length > 0) {
        // Plain columns, the usage object built by PostgreSQL: no JSON text inside JSON text.
        await trx.raw(
          `update nodes n set last_heartbeat_at = now(), liveness = 'online',
             usage = jsonb_build_object('cpuPercent', v.cpu, 'load1', v.load1, 'memoryUsedMb', v.mem_used, 'memoryTotalMb', v.mem_total,
               'diskUsedMb', v.disk_used, 'diskTotalMb', v.disk_total, 'netRxBytes', v.rx, 'netTxBytes', v.tx, 'containerCount', v.containers),
             container_count = v.containers, degraded = v.degraded, updated_at = now()
           from json_to_recordset(?::json) as v(id text, cpu float8, load1 float8, mem_used bigint, mem_total bigint, disk_used bigint,
             disk_total bigint, rx bigint, tx bigint, containers int, degraded boolean)
           where n.id = v.id and n.revoked_at is null`,
          [JSON.stringify(dirty.map(usageRow))],
        );
      }
      if (stamped.length > 0) {
        await trx.raw(
          `update nodes set last_heartbeat_at = now(), liveness = 'online' where id in (select json_array_elements_text(?::json)) and revoked_at is null`,
          [JSON.stringify(stamped)],
        );
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
              lastPerKey(points, (p) => `${p.nodeId} ${p.at}`).map((p) => ({
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
        // The regions where a replica started or stopped being routable (healthy with an
        // upstream) come back: their nodes' routes changed. `before` reads the rows as they were
        // (every part of one statement sees the same snapshot).
        const changed = await trx.raw<{ rows: Array<{ region_id: string }> }>(
          `with r as (
             select * from json_to_recordset(?::json) as r(node_id text, id text, state text, upstream text, restarts int,
               started_at timestamptz, message text, cpu real, mem real)),
           before as (
             select a.id, case when a.actual_status = 'healthy' then a.upstream end as routed
             from allocations a join r on a.id = r.id and a.node_id = r.node_id where a.stopped_at is null),
           updated as (
             update allocations a set actual_status = r.state, upstream = r.upstream, restarts = r.restarts,
               started_at = coalesce(r.started_at, a.started_at), status_message = r.message, cpu_percent = r.cpu,
               memory_used_mb = r.mem, reported_at = now(), updated_at = now()
             -- a retired allocation's row keeps its last state: a returning node's late report of a
             -- container it is about to remove must not make it look live again
             from r where a.id = r.id and a.node_id = r.node_id and a.stopped_at is null
             returning a.id, a.node_id, case when a.actual_status = 'healthy' and a.stopped_at is null then a.upstream end as routed)
           select distinct n.region_id from updated u join before b on b.id = u.id join nodes n on n.id = u.node_id
           where u.routed is distinct from b.routed`,
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
        rerouted = changed.rows.map((r) => r.region_id);
      }
      if (allocationPoints.length > 0) {
        // The app comes from the allocation row; the node condition drops any report about an
        // allocation that is not this node's (or no longer exists).
        await trx.raw(
          `insert into allocation_metrics (allocation_id, app_id, node_id, at, cpu_percent, memory_mb, net_rx_bytes, net_tx_bytes)
           select a.id, a.app_id, a.node_id, to_timestamp(p.at / 1000.0), p.cpu, p.mem, p.rx, p.tx
           from json_to_recordset(?::json) as p(node_id text, id text, at bigint, cpu real, mem real, rx bigint, tx bigint)
           join allocations a on a.id = p.id and a.node_id = p.node_id
           on conflict (allocation_id, at) do update set cpu_percent = excluded.cpu_percent, memory_mb = excluded.memory_mb,
             net_rx_bytes = excluded.net_rx_bytes, net_tx_bytes = excluded.net_tx_bytes`,
          [
            JSON.stringify(
              lastPerKey(allocationPoints, (p) => `${p.nodeId} ${p.allocationId} ${p.at}`).map((p) => ({
                node_id: p.nodeId,
                id: p.allocationId,
                at: p.at,
                cpu: p.cpuPercent ?? null,
                mem: p.memoryMb ?? null,
                rx: p.netRxBytes ?? null,
                tx: p.netTxBytes ?? null,
              })),
            ),
          ],
        );
      }
    });
    transactions += 1;
    if (stateChanged) {
      for (const listener of listeners) {
        try {
          listener();
        } catch (err) {
          logger.warn({ err }, 'a listener of allocation state changes failed');
        }
      }
    }
    // After the liveness commit, in its own transaction: bumping a region locks all its nodes
    // (in id order), which inside the flush would break the one lock order everyone keeps.
    for (const region of rerouted) {
      await bumpRegionNodes(db, region).catch((err: unknown) => logger.warn({ err, region }, 'route change not announced; the next change or reconnect carries it'));
    }
  }

  function tick(early: boolean): void {
    if (running) return; // a slow database must not pile up flushes; the one running schedules the next
    if (early) lastEarlyAt = Date.now();
    if (timer) clearTimeout(timer);
    if (soon) clearTimeout(soon);
    timer = soon = undefined;
    running = flushOnce()
      .catch((err: unknown) => logger.warn({ err }, 'liveness flush failed; will retry'))
      .finally(() => {
        running = undefined;
        schedule();
      });
  }

  /** The next regular flush a period after the last one started; sooner for a waiting state change. */
  function schedule(): void {
    if (!started || stopped || running) return;
    if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        tick(false);
      }, Math.max(0, lastFlushAt + periodMs - Date.now()));
      timer.unref();
    }
    if (changeWaiting && !soon) {
      soon = setTimeout(
        () => {
          soon = undefined;
          tick(true);
        },
        Math.max(STATE_CHANGE_DELAY_MS, lastEarlyAt + STATE_CHANGE_GAP_MS - Date.now()),
      );
      soon.unref();
    }
  }

  live.onStateChange(() => {
    changeWaiting = true;
    schedule();
  });

  return {
    start() {
      started = true;
      lastFlushAt = Date.now();
      schedule();
    },
    /** `listener` runs after each flush that wrote a change of some allocation's state or upstream */
    onStateChanges(listener: () => void): void {
      listeners.push(listener);
    },
    /** flushes now (tests, shutdown) */
    async flush(): Promise<void> {
      if (running) await running;
      await flushOnce();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (soon) clearTimeout(soon);
      if (running) await running;
    },
    get transactions() {
      return transactions;
    },
  };
}

/** One node's row for the usage update (see the column list there). */
function usageRow(d: DirtyNode) {
  const u = d.usage;
  return {
    id: d.nodeId,
    cpu: u.cpuPercent,
    load1: u.load1,
    mem_used: u.memoryUsedMb,
    mem_total: u.memoryTotalMb,
    disk_used: u.diskUsedMb,
    disk_total: u.diskTotalMb,
    rx: u.netRxBytes,
    tx: u.netTxBytes,
    containers: u.containerCount,
    degraded: d.degraded,
  };
}

/**
 * One row per key, the last one: an upsert may not touch a row twice in one statement, and the
 * same minute can be completed twice in one flush (a session ending and a new one's first minute
 * rolling over, or an agent listing an allocation twice).
 */
function lastPerKey<T extends MetricPointRow | AllocationPointRow>(rows: T[], key: (r: T) => string): T[] {
  if (rows.length < 2) return rows;
  const byKey = new Map<string, T>();
  for (const r of rows) byKey.set(key(r), r);
  return byKey.size === rows.length ? rows : [...byKey.values()];
}

export type LivenessWriter = ReturnType<typeof createLivenessWriter>;
