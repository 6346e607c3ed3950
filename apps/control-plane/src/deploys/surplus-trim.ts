// Acts on decideSurplus in the deploy engine's pass: for each app that settled (no deploy in
// progress, desired running) and has more live replicas than its count, or live ones of another
// release, retires the surplus. A cheap query picks the candidates; each app is then decided and
// trimmed in one transaction under its row lock, re-checked there, because createDeploy takes the
// same lock: a deploy queued meanwhile is seen and the app is left to it.
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import { retireAllocations } from '../allocations/allocation-changes';
import { ACTIVE_DEPLOY_STATUSES } from './deploy-row';
import { decideSurplus } from './surplus-decision';

interface AppState {
  id: string;
  replicas: number;
  current_release_id: string | null;
  current_deploy_id: string | null;
}

// Only apps that have been released: before its first release an app's allocations belong to its
// first deploy, which retires them itself when it fails or is cancelled (allocation-changes.ts
// retires a replica with its moves), and allocations placed by other means (the planner's own API,
// as tests and operators use it) are not this safeguard's to judge.
const SETTLED = `ap.deleted_at is null and ap.status not in ('deleting', 'deleted') and ap.desired_status = 'running'
  and ap.current_release_id is not null
  and not exists (select 1 from deploys d where d.app_id = ap.id and d.status in (${ACTIVE_DEPLOY_STATUSES.map((s) => `'${s}'`).join(', ')}))`;

/** Trims every settled app's surplus replicas; returns how many allocations were retired. */
export async function trimSurplusReplicas(deps: { db: Db; logger: Logger }): Promise<number> {
  const { db, logger } = deps;
  // Units counted by their roots: a live replacement of a live original is a move, counted once.
  const candidates = await db.raw<{ rows: Array<{ id: string }> }>(
    `select ap.id from apps ap
     join allocations a on a.app_id = ap.id and a.stopped_at is null
     where ${SETTLED}
     group by ap.id
     having count(*) filter (where not (a.replaces is not null and exists (select 1 from allocations o where o.id = a.replaces and o.stopped_at is null))) > max(ap.replicas)
        or bool_or(a.release_id is distinct from ap.current_release_id)
     limit 200`,
  );
  let retired = 0;
  for (const { id } of candidates.rows) {
    try {
      retired += await trimApp(db, logger, id);
    } catch (err) {
      logger.error({ err, appId: id }, 'trimming surplus replicas failed; retried on the next pass');
    }
  }
  return retired;
}

async function trimApp(db: Db, logger: Logger, appId: string): Promise<number> {
  return db.transaction(async (trx) => {
    const app = await trx('apps as ap')
      .where('ap.id', appId)
      .whereRaw(SETTLED)
      .forUpdate()
      .first<AppState | undefined>('ap.id', 'ap.replicas', 'ap.current_release_id', 'ap.current_deploy_id');
    if (!app) return 0;
    const live = await trx('allocations')
      .where({ app_id: appId })
      .whereNull('stopped_at')
      .select<Array<{ id: string; release_id: string | null; deploy_id: string | null; actual_status: string; replaces: string | null; created_at: Date }>>(
        'id',
        'release_id',
        'deploy_id',
        'actual_status',
        'replaces',
        'created_at',
      );
    const decision = decideSurplus({
      replicas: app.replicas,
      currentReleaseId: app.current_release_id,
      currentDeployId: app.current_deploy_id,
      live: live.map((a) => ({ id: a.id, releaseId: a.release_id, deployId: a.deploy_id, actualStatus: a.actual_status, replaces: a.replaces, createdAt: a.created_at.getTime() })),
    });
    if (decision.retire.length === 0) return 0;
    const n = await retireAllocations(trx, decision.retire);
    logger.warn({ appId, retired: decision.retire, kept: decision.keep, held: decision.held }, 'retired surplus replicas of a settled app');
    return n;
  });
}
