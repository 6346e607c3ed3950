// Scale, stop and start act through desired state. Scaling an app that serves a release places
// or retires replicas of that release at once (placed under the current deploy, so a later deploy
// replaces them all); when the scheduler cannot place them nothing is stored and the caller gets
// the scheduler's reasons. A rollout in progress picks the new count up itself.
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { Planner } from '../planner/planner';
import { retireAllocations, setAllocationsDesiredStatus } from '../allocations/allocation-changes';
import { getRelease } from '../releases/releases';
import { releaseSpec } from '../deploys/release-spec';
import type { AppRow } from './app-row';
import { ACTIVE_DEPLOY_STATUSES } from '../deploys/deploy-row';

export interface AppOperationDeps {
  db: Db;
  planner: Planner;
  /** tells the deploy engine to look again (a rollout may need the new count) */
  wakeDeploys(): void;
}

async function hasActiveDeploy(db: Db, appId: string): Promise<boolean> {
  return (await db('deploys').where({ app_id: appId }).whereIn('status', ACTIVE_DEPLOY_STATUSES).first('id')) !== undefined;
}

/** Brings the current deploy's live replicas to `replicas`: places the missing, retires the extra. */
async function converge(deps: AppOperationDeps, app: AppRow, replicas: number): Promise<void> {
  if (!app.current_deploy_id || !app.current_release_id) return;
  const live = await deps.db('allocations as a')
    .where({ app_id: app.id, deploy_id: app.current_deploy_id })
    .whereNull('stopped_at')
    // a replacement in flight stands in for its original: count the pair once
    .whereRaw('not (a.replaces is not null and exists (select 1 from allocations o where o.id = a.replaces and o.stopped_at is null))')
    .orderBy('created_at', 'desc')
    .select<Array<{ id: string; actual_status: string }>>('id', 'actual_status');
  if (live.length > replicas) {
    const order = [...live].sort((a, b) => Number(a.actual_status === 'healthy') - Number(b.actual_status === 'healthy'));
    await retireAllocations(deps.db, order.slice(0, live.length - replicas).map((a) => a.id));
    return;
  }
  if (live.length === replicas) return;
  const release = await getRelease(deps.db, app.current_release_id);
  if (!release) return;
  const { spec, resources, onlyNodes } = releaseSpec(app, release);
  const placed = await deps.planner.placeReplicas({
    appId: app.id,
    releaseId: release.id,
    deployId: app.current_deploy_id,
    region: app.region_id,
    resources,
    replicas: replicas - live.length,
    ...(onlyNodes ? { onlyNodes } : {}),
    spec,
  });
  if (!placed.ok) throw new DomainError('CONFLICT', `no capacity: ${placed.failure.message}`, { reasons: placed.failure.reasons });
}

export async function scaleApp(deps: AppOperationDeps, app: AppRow, replicas: number): Promise<void> {
  // The count is stored before placing: the deploy engine retires live replicas beyond an app's
  // count (deploys/surplus-trim.ts) and would take replicas placed ahead of it for surplus. When
  // placing fails the old count is put back, unless another scale changed it meanwhile.
  await deps.db('apps').where({ id: app.id }).update({ replicas, updated_at: new Date() });
  if (app.desired_status === 'running' && !(await hasActiveDeploy(deps.db, app.id))) {
    try {
      await converge(deps, app, replicas);
    } catch (e) {
      await deps.db('apps').where({ id: app.id, replicas }).update({ replicas: app.replicas, updated_at: new Date() });
      throw e;
    }
  }
  deps.wakeDeploys();
}

export async function stopApp(deps: AppOperationDeps, app: AppRow): Promise<void> {
  await deps.db.transaction(async (trx) => {
    await trx('apps').where({ id: app.id }).update({ desired_status: 'stopped', updated_at: new Date() });
    await setAllocationsDesiredStatus(trx, app.id, 'stopped');
  });
}

export async function startApp(deps: AppOperationDeps, app: AppRow): Promise<void> {
  await deps.db.transaction(async (trx) => {
    await trx('apps').where({ id: app.id }).update({ desired_status: 'running', updated_at: new Date() });
    await setAllocationsDesiredStatus(trx, app.id, 'running');
  });
  if (!(await hasActiveDeploy(deps.db, app.id))) await converge(deps, { ...app, desired_status: 'running' }, app.replicas);
}
