// Acts on decideEvacuation: loads the live allocations of draining, offline and revoked nodes
// (and any allocation with a move in flight), then places replacements and retires originals.
// Runs in the deploy engine's pass, so one loop moves everything and a control plane restart
// continues from the database.
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { Planner } from '../planner/planner';
import type { AppRow } from '../apps/app-row';
import { releaseSpec } from '../deploys/release-spec';
import { getRelease } from '../releases/releases';
import { retireAllocations } from './allocation-changes';
import { decideEvacuation, type EvacuationAllocation } from './evacuation-decision';

/** Moves in flight per region at once: a region-wide outage must not stampede the survivors. */
export const MAX_MOVES_PER_REGION = 10;

interface Row {
  id: string;
  app_id: string;
  release_id: string | null;
  deploy_id: string | null;
  region_id: string;
  node_leaving: boolean;
  app_stopped: boolean;
  pinned: boolean;
  rep_id: string | null;
  rep_status: string | null;
}

export async function evacuate(deps: { db: Db; planner: Planner; logger: Logger }): Promise<number> {
  const { db, logger } = deps;
  // Only two kinds of allocation can need a move step: those on a leaving node, and those a live
  // replacement replaces (found through allocations_replaces). Starting from them, not from every
  // live allocation with a lateral look-up each (190-250 ms at 20,000 live allocations). Leaving
  // nodes come from the nodes_leaving partial index (migrations/0010), their allocations through
  // allocations_node, so neither side needs to scan a table.
  const res = await db.raw<{ rows: Row[] }>(
    `with candidates as (
       select a.id from allocations a
       where a.node_id = any(array(select id from nodes where admin_status = 'draining' or liveness = 'offline' or revoked_at is not null))
         and a.stopped_at is null
       union
       select x.replaces from allocations x where x.replaces is not null and x.stopped_at is null)
     select a.id, a.app_id, a.release_id, a.deploy_id, n.region_id,
       (n.admin_status = 'draining' or n.liveness = 'offline' or n.revoked_at is not null) as node_leaving,
       (ap.desired_status = 'stopped') as app_stopped,
       (r.config->>'pinnedNode') is not null as pinned,
       rep.id as rep_id, rep.actual_status as rep_status
     from candidates c
     join allocations a on a.id = c.id
     join nodes n on n.id = a.node_id
     join apps ap on ap.id = a.app_id and ap.deleted_at is null and ap.status <> 'deleting'
     left join releases r on r.id = a.release_id
     left join lateral (select x.id, x.actual_status from allocations x where x.replaces = a.id and x.stopped_at is null order by x.created_at desc limit 1) rep on true
     where a.stopped_at is null
       and (n.admin_status = 'draining' or n.liveness = 'offline' or n.revoked_at is not null or rep.id is not null)
     order by a.created_at, a.id
     limit 2000`,
  );
  const byId = new Map(res.rows.map((r) => [r.id, r]));
  const input: EvacuationAllocation[] = res.rows.map((r) => ({
    id: r.id,
    regionId: r.region_id,
    nodeLeaving: r.node_leaving,
    appStopped: r.app_stopped,
    pinned: r.pinned,
    ...(r.rep_id ? { replacement: { id: r.rep_id, status: r.rep_status ?? 'pending' } } : {}),
  }));
  const actions = decideEvacuation(input, { maxMovesPerRegion: MAX_MOVES_PER_REGION });
  for (const action of actions) {
    try {
      if (action.kind === 'retire') {
        // The move's own step keeps the replacement that took over; every other retirement
        // (a failed or called-off replacement, a stopped app's replica) takes its moves along.
        await retireAllocations(db, [action.allocationId], { keepReplacements: action.why === 'replaced' });
        logger.info({ allocationId: action.allocationId, why: action.why }, 'allocation retired by a move');
        continue;
      }
      const row = byId.get(action.allocationId)!;
      const app = await db('apps').where({ id: row.app_id }).first<AppRow | undefined>();
      const release = row.release_id ? await getRelease(db, row.release_id) : undefined;
      if (!app || !release) continue;
      const { spec, resources } = releaseSpec(app, release);
      const placed = await deps.planner.placeReplicas({
        appId: app.id,
        releaseId: release.id,
        deployId: row.deploy_id,
        replaces: row.id,
        region: app.region_id,
        resources,
        replicas: 1,
        spec,
      });
      if (placed.ok) logger.info({ allocationId: row.id, replacement: placed.allocations[0]?.id, nodeId: placed.allocations[0]?.nodeId }, 'moving an allocation off its node');
      else logger.warn({ allocationId: row.id, reason: placed.failure.message }, 'no room to move an allocation off its node; retrying');
    } catch (err) {
      logger.error({ err, action }, 'move step failed; retried on the next pass');
    }
  }
  return actions.length;
}
