// Deleting an app is asynchronous (API: 202, the record shows progress). At once: the app stops
// taking deploys, its rollouts are cancelled, its replicas leave their nodes' desired state and
// its secrets are erased. Then the deploy engine waits until every node that ran it has applied
// that desired state (the agent removes containers, ports and networks) and marks it deleted.
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { retireAllocations } from '../allocations/allocation-changes';
import { ACTIVE_DEPLOY_STATUSES } from './deploy-row';
import { releaseAppDomains } from '../domains/domains';
import { bumpRegionNodes } from '../routing/region-generation';

export async function startAppDeletion(db: Db, appId: string): Promise<void> {
  await db.transaction(async (trx) => {
    const app = await trx('apps').where({ id: appId }).whereNull('deleted_at').forUpdate().first<{ status: string; region_id: string } | undefined>('status', 'region_id');
    if (!app) throw new DomainError('NOT_FOUND', 'app not found');
    if (app.status === 'deleting') return;
    const now = new Date();
    await trx('apps').where({ id: appId }).update({ status: 'deleting', deleting_since: now, updated_at: now });
    await trx('deploys')
      .where({ app_id: appId })
      .whereIn('status', ACTIVE_DEPLOY_STATUSES)
      .update({ status: 'cancelled', error: JSON.stringify({ code: 'APP_DELETED', message: 'the app was deleted' }), finished_at: now, updated_at: now });
    const live = (await trx('allocations').where({ app_id: appId }).whereNull('stopped_at').pluck('id')) as string[];
    await retireAllocations(trx, live);
    await trx('env_vars').where({ app_id: appId }).delete();
    // Its hostnames leave every node's routes, and its custom domains are free for others.
    await releaseAppDomains(trx, appId);
    await bumpRegionNodes(trx, app.region_id);
  });
}

/** Marks the app deleted once its nodes applied the removal (or after waitMs, for nodes gone for good). */
export async function finishAppDeletion(db: Db, appId: string, waitMs: number): Promise<boolean> {
  const pending = await db.raw<{ rows: Array<{ id: string }> }>(
    `select n.id from nodes n
     where n.id in (select node_id from allocations where app_id = ?)
       and n.applied_generation < n.desired_generation and n.revoked_at is null`,
    [appId],
  );
  const app = await db('apps').where({ id: appId }).first<{ deleting_since: Date | null } | undefined>('deleting_since');
  const waited = app?.deleting_since ? Date.now() - app.deleting_since.getTime() : Infinity;
  if (pending.rows.length > 0 && waited < waitMs) return false;
  // Still-live allocations would mean a placement raced the delete: retire them too.
  const live = (await db('allocations').where({ app_id: appId }).whereNull('stopped_at').pluck('id')) as string[];
  if (live.length > 0) {
    await retireAllocations(db, live);
    return false;
  }
  await db('apps').where({ id: appId }).update({ status: 'deleted', deleted_at: new Date(), updated_at: new Date() });
  return true;
}
