// Moves deploys forward in the background: queued → releasing → succeeded | failed | cancelled.
// Each step is decided by decideRollout from the database (what agents last reported) and acted on
// here; nothing is held in memory between steps, so a control plane that restarts mid-rollout, or
// another control plane, continues where it was. A step runs under a lease on the deploy row so two
// control planes never place one deploy's replicas twice; placing counts the deploy's live
// replicas first, so a step repeated after a crash places only what is missing.
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { Planner } from '../planner/planner';
import type { AppRow } from '../apps/app-row';
import { retireAllocations } from '../allocations/allocation-changes';
import { getRelease } from '../releases/releases';
import { ACTIVE_DEPLOY_STATUSES, advancePhases, type DeployRow } from './deploy-row';
import { advanceBuild, cancelBuild } from '../builds/build-stage';
import { bumpRegionNodes } from '../routing/region-generation';
import { decideRollout, type DeployErrorCode, type RolloutAllocation } from './rollout-decision';
import { finishAppDeletion } from './app-deletion';
import { releaseSpec } from './release-spec';
import { evacuate } from '../allocations/evacuation';
import { trimSurplusReplicas } from './surplus-trim';

export interface DeployEngine {
  start(): void;
  stop(): Promise<void>;
  /** look for work now (a deploy was queued, a heartbeat may have changed a rollout) */
  wake(): void;
  /** one pass over every active deploy and deleting app; resolves when done */
  tick(): Promise<void>;
}

export interface DeployEngineDeps {
  db: Db;
  planner: Planner;
  logger: Logger;
  rolloutTimeoutMs: number;
  pollMs?: number;
  /** how long a deleting app waits for its nodes to apply the removal before it is finished anyway */
  deletionWaitMs?: number;
}

const LEASE_SECONDS = 60;

export function createDeployEngine(deps: DeployEngineDeps): DeployEngine {
  const { db, logger } = deps;
  const pollMs = deps.pollMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  /**
   * Ends the deploy unless something else ended it first (a newer deploy cancelled it while
   * queued, the app's deletion cancelled it): false then, and the caller changes nothing else.
   */
  async function finish(d: DeployRow, status: 'succeeded' | 'failed' | 'cancelled', error?: { code: DeployErrorCode; message: string; details?: unknown }, trx: Db = db): Promise<boolean> {
    const now = new Date();
    const changed = await trx('deploys')
      .where({ id: d.id })
      .whereIn('status', ACTIVE_DEPLOY_STATUSES)
      .update({
        status,
        error: error ? JSON.stringify(error) : null,
        phases: JSON.stringify(advancePhases(d.phases, status, now).map((p) => (p.name === status ? { ...p, endedAt: now.toISOString() } : p))),
        finished_at: now,
        updated_at: now,
      });
    if (changed === 0) return false;
    logger.info({ deployId: d.id, appId: d.app_id, status, code: error?.code }, 'deploy finished');
    return true;
  }

  async function liveAllocations(appId: string): Promise<Array<RolloutAllocation & { deployId: string | null }>> {
    // An allocation being moved off its node counts once: the original until its replacement
    // takes over (the replacement is not counted while the original lives).
    const rows = await db('allocations as a')
      .where({ app_id: appId })
      .whereNull('stopped_at')
      .whereRaw('not (a.replaces is not null and exists (select 1 from allocations o where o.id = a.replaces and o.stopped_at is null))')
      .select<Array<{ id: string; deploy_id: string | null; actual_status: string; status_message: string | null }>>('id', 'deploy_id', 'actual_status', 'status_message');
    return rows.map((r) => ({ id: r.id, deployId: r.deploy_id, actualStatus: r.actual_status, statusMessage: r.status_message }));
  }

  async function advance(d: DeployRow): Promise<void> {
    // Three independent reads at once (each is a round trip on the way from a push to its build,
    // and from a build to its replicas).
    const [app, liveRows, newer] = await Promise.all([
      db('apps').where({ id: d.app_id }).first<AppRow | undefined>(),
      liveAllocations(d.app_id),
      // Compared in SQL: a JS Date keeps milliseconds, the column microseconds.
      db('deploys')
        .where({ app_id: d.app_id })
        .whereNot({ id: d.id })
        .whereIn('status', ACTIVE_DEPLOY_STATUSES)
        .whereRaw('created_at > (select created_at from deploys where id = ?)', [d.id])
        .first<{ id: string } | undefined>('id'),
    ]);
    const live = app ? liveRows : [];
    const mine = live.filter((a) => a.deployId === d.id);
    if (!app || app.deleted_at || app.status === 'deleting') {
      if (d.build_id) await cancelBuild(db, d.build_id);
      await retireAllocations(db, mine.map((a) => a.id));
      await finish(d, 'cancelled', { code: 'APP_DELETED', message: 'the app was deleted' });
      return;
    }
    if (newer) {
      if (d.build_id) await cancelBuild(db, d.build_id);
      await retireAllocations(db, mine.map((a) => a.id));
      await finish(d, 'cancelled', { code: 'SUPERSEDED', message: 'a newer deploy of this app took over' });
      return;
    }
    let release = d.release_id ? await getRelease(db, d.release_id) : undefined;
    if (!release) {
      const built = await advanceBuild({ db, planner: deps.planner }, d, app);
      if (built.kind === 'wait') return;
      if (built.kind === 'failed') {
        await db('apps').where({ id: app.id }).update({ status: app.current_release_id ? 'running' : 'failed', updated_at: new Date() });
        await finish(d, 'failed', { code: built.code, message: built.message, ...(built.details ? { details: built.details } : {}) });
        return;
      }
      release = built.release;
    }
    if (d.status === 'queued' || d.status === 'building') {
      const now = new Date();
      const deadline = new Date(now.getTime() + deps.rolloutTimeoutMs);
      d.phases = advancePhases(d.phases, 'releasing', now);
      d.status = 'releasing';
      d.deadline_at = deadline;
      // Conditional: createDeploy cancels a queued deploy without its lease, and a step that went on
      // to place replicas for it anyway resurrected a cancelled deploy.
      const moved = await db('deploys')
        .where({ id: d.id })
        .whereIn('status', ['queued', 'building'])
        .update({ status: 'releasing', phases: JSON.stringify(d.phases), deadline_at: deadline, updated_at: now });
      if (moved === 0) return;
      if (app.desired_status !== 'running') await db('apps').where({ id: app.id }).update({ desired_status: 'running', updated_at: now });
    }
    const step = decideRollout({
      replicas: app.replicas,
      mine,
      others: live.filter((a) => a.deployId !== d.id).map((a) => a.id),
      now: Date.now(),
      deadline: (d.deadline_at ?? new Date()).getTime(),
    });
    switch (step.kind) {
      case 'wait':
        return;
      case 'trim':
        await retireAllocations(db, step.retire);
        return;
      case 'place': {
        const { spec, resources, onlyNodes } = releaseSpec(app, release);
        const placed = await deps.planner.placeReplicas({
          appId: app.id,
          releaseId: release.id,
          deployId: d.id,
          region: app.region_id,
          resources,
          replicas: step.count,
          ...(onlyNodes ? { onlyNodes } : {}),
          spec,
        });
        if (!placed.ok) {
          await retireAllocations(db, mine.map((a) => a.id));
          await db('apps').where({ id: app.id }).update({ status: app.current_release_id ? 'running' : 'failed', updated_at: new Date() });
          await finish(d, 'failed', { code: 'NO_CAPACITY', message: placed.failure.message, details: { reasons: placed.failure.reasons } });
          return;
        }
        return;
      }
      case 'succeed':
        await db.transaction(async (trx) => {
          // App row, deploy row, then nodes: the order createDeploy and startAppDeletion lock in.
          // Ended first: a deletion that cancelled the deploy meanwhile must not see it succeed.
          await trx('apps').where({ id: app.id }).forUpdate().first('id');
          if (!(await finish(d, 'succeeded', undefined, trx))) return;
          await retireAllocations(trx, step.retire);
          await trx('apps').where({ id: app.id }).update({ current_release_id: release.id, current_deploy_id: d.id, status: 'running', updated_at: new Date() });
          // A first release gives the app its routes on every node of the region.
          if (!app.current_release_id) await bumpRegionNodes(trx, app.region_id);
        });
        return;
      case 'fail':
        await db.transaction(async (trx) => {
          await trx('apps').where({ id: app.id }).forUpdate().first('id');
          if (!(await finish(d, 'failed', { code: step.code, message: step.message }, trx))) return;
          await retireAllocations(trx, step.retire);
          await trx('apps').where({ id: app.id }).update({ status: app.current_release_id ? 'running' : 'failed', updated_at: new Date() });
        });
        return;
    }
  }

  async function step(id: string): Promise<void> {
    const claimed = await db.raw<{ rows: DeployRow[] }>(
      `update deploys set lease_until = now() + make_interval(secs => ?)
       where id = ? and status in ('queued', 'building', 'releasing') and (lease_until is null or lease_until < now())
       returning *`,
      [LEASE_SECONDS, id],
    );
    const d = claimed.rows[0];
    if (!d) return;
    try {
      await advance(d);
    } finally {
      await db('deploys').where({ id }).update({ lease_until: null });
    }
  }

  async function pass(): Promise<void> {
    const active = (await db('deploys')
      .whereIn('status', ACTIVE_DEPLOY_STATUSES)
      .where((q) => {
        void q.whereNull('lease_until').orWhere('lease_until', '<', db.fn.now());
      })
      .orderBy('created_at')
      .limit(200)
      .pluck('id')) as string[];
    for (const id of active) {
      try {
        await step(id);
      } catch (e) {
        logger.error({ err: e, deployId: id }, 'deploy step failed; retried on the next pass');
      }
    }
    try {
      await evacuate({ db, planner: deps.planner, logger });
    } catch (e) {
      logger.error({ err: e }, 'moving allocations off leaving nodes failed; retried on the next pass');
    }
    try {
      // Last: whatever history left an app that settled with replicas beyond its count or of an
      // older release (issue 12), they are retired here.
      await trimSurplusReplicas({ db, logger });
    } catch (e) {
      logger.error({ err: e }, 'trimming surplus replicas failed; retried on the next pass');
    }
    const deleting = (await db('apps').where({ status: 'deleting' }).whereNull('deleted_at').pluck('id')) as string[];
    for (const appId of deleting) {
      try {
        await finishAppDeletion(db, appId, deps.deletionWaitMs ?? 10 * 60_000);
      } catch (e) {
        logger.error({ err: e, appId }, 'app deletion step failed; retried on the next pass');
      }
    }
  }

  function tick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      tick()
        .catch((e: unknown) => logger.error({ err: e }, 'deploy pass failed'))
        .finally(schedule);
    }, pollMs);
  };

  return {
    start: schedule,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
    wake() {
      if (!stopped) tick().catch((e: unknown) => logger.error({ err: e }, 'deploy pass failed'));
    },
    tick,
  };
}
