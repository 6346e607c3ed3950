// The build in front of a git deploy's rollout: a build row, a builder node chosen by the
// scheduler, a durable `build` task to that node, and — when its result comes back — the release
// cut from the image. Driven by the deploy engine one step at a time from what the database says,
// so a control plane restart in the middle loses nothing (the task's idempotency key is the
// build id: a repeated step never builds twice).
import { z } from 'zod';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import type { Planner } from '../planner/planner';
import type { AppRow } from '../apps/app-row';
import { enqueueTask } from '../dispatch/task-queue';
import { currentReleaseConfig } from '../deploys/deploys';
import { advancePhases, type DeployRow } from '../deploys/deploy-row';
import type { DeployErrorCode } from '../deploys/rollout-decision';
import { createRelease, type ReleaseRow } from '../releases/releases';
import { REASON } from '../scheduler/feasibility';
import { BUILD_LIMITS, type BuildRow } from './build-row';
import { buildTaskSpec } from './build-task-spec';

export type BuildStep =
  | { kind: 'wait' }
  | { kind: 'failed'; code: DeployErrorCode; message: string; details?: unknown }
  | { kind: 'released'; release: ReleaseRow };

/** The codes a builder reports (agent build task) that end a build for good: no retry helps. */
export const FINAL_BUILD_CODES: ReadonlySet<string> = new Set<DeployErrorCode>(['CLONE_FAILED', 'NO_BUILDPACK', 'UNSAFE_SOURCE', 'BUILD_FAILED', 'BUILD_TIMEOUT', 'PUSH_FAILED']);

export const buildResultSchema = z.object({
  image: z.string().min(1).max(512),
  commitSha: z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/),
  /** with the deploy key: the known_hosts the builder ended with (trust on first use) */
  knownHosts: z.string().max(65_536).optional(),
});

const taskKey = (buildId: string) => `build:${buildId}`;

export async function advanceBuild(deps: { db: Db; planner: Planner }, d: DeployRow & { build_id?: string | null }, app: AppRow): Promise<BuildStep> {
  const { db } = deps;
  if (app.source.type !== 'git') return { kind: 'failed', code: 'START_FAILED', message: 'the deploy has no release and the app does not build from git' };
  let build = d.build_id ? await db('builds').where({ id: d.build_id }).first<BuildRow | undefined>() : undefined;
  if (!build) {
    const now = new Date();
    const id = newId('bld');
    await db.transaction(async (trx) => {
      await trx('builds').insert({ id, app_id: app.id, commit_sha: d.commit_sha, status: 'queued' });
      d.phases = advancePhases(d.phases, 'building', now);
      await trx('deploys').where({ id: d.id }).update({ build_id: id, status: 'building', phases: JSON.stringify(d.phases), updated_at: now });
    });
    d.status = 'building';
    build = (await db('builds').where({ id }).first<BuildRow>())!;
  }

  if (build.status === 'queued') {
    const chosen = await deps.planner.chooseBuildNode({ buildId: build.id, appId: app.id, region: app.region_id, limits: { cpuMillicores: BUILD_LIMITS.cpuMillicores, memoryMb: BUILD_LIMITS.memoryMb, diskMb: 0 } });
    // Every builder busy with other builds: the build waits its turn (builds end, by their timeout at the latest).
    if (!chosen.ok && chosen.failure.reasons.length > 0 && chosen.failure.reasons.every((r) => r.reason === REASON.buildSlots)) return { kind: 'wait' };
    if (!chosen.ok) {
      await finishBuild(db, build.id, 'failed', { code: 'NO_CAPACITY', message: chosen.failure.message });
      return { kind: 'failed', code: 'NO_CAPACITY', message: `no builder: ${chosen.failure.message}`, details: { reasons: chosen.failure.reasons } };
    }
    const region = await db('regions').where({ id: app.region_id }).first<{ registry_url: string | null }>('registry_url');
    const registry = region?.registry_url ?? null;
    const branch = d.ref ?? app.source.branch;
    await db.transaction(async (trx) => {
      const took = await trx('builds').where({ id: build.id, status: 'queued' }).update({ node_id: chosen.nodeId, status: 'running', started_at: trx.fn.now() });
      if (took === 0) return;
      await enqueueTask(trx, {
        nodeId: chosen.nodeId,
        kind: 'build',
        payload: buildTaskSpec(app, build, { registry, branch }),
        idempotencyKey: taskKey(build.id),
        deadline: new Date(Date.now() + BUILD_LIMITS.timeoutMs + 120_000),
      });
    });
    return { kind: 'wait' };
  }

  if (build.status === 'running') {
    const task = await db('tasks')
      .where({ idempotency_key: taskKey(build.id) })
      .first<{ id: string; state: string; result: unknown; last_error: { code: string; message: string } | null } | undefined>('id', 'state', 'result', 'last_error');
    if (!task) return { kind: 'wait' };
    if (task.state === 'succeeded') {
      const parsed = buildResultSchema.safeParse(task.result);
      if (!parsed.success) {
        await finishBuild(db, build.id, 'failed', { code: 'BUILD_FAILED', message: 'the builder answered without an image' });
        return { kind: 'failed', code: 'BUILD_FAILED', message: 'the builder answered without an image' };
      }
      const region = await db('regions').where({ id: app.region_id }).first<{ registry_url: string | null }>('registry_url');
      const release = await db.transaction(async (trx) => {
        const locked = await trx('apps').where({ id: app.id }).forUpdate().first<AppRow>();
        const config = await currentReleaseConfig(trx, locked ?? app);
        // Without a registry the image exists only where it was built: replicas go there.
        const pinned = region?.registry_url ? config : { ...config, pinnedNode: build.node_id ?? undefined };
        const rel = await createRelease(trx, app.id, { image: parsed.data.image, commitSha: parsed.data.commitSha, config: pinned });
        await trx('builds').where({ id: build.id }).update({ status: 'succeeded', image: parsed.data.image, commit_sha: parsed.data.commitSha, finished_at: trx.fn.now() });
        await trx('deploys').where({ id: d.id }).update({ release_id: rel.id, commit_sha: parsed.data.commitSha, updated_at: trx.fn.now() });
        // The host keys this build met are trusted from now on (shown by GET /apps/:id/deploy-key).
        if (parsed.data.knownHosts) await trx('apps').where({ id: app.id }).update({ git_known_hosts: parsed.data.knownHosts });
        return rel;
      });
      d.release_id = release.id;
      d.commit_sha = parsed.data.commitSha;
      return { kind: 'released', release };
    }
    const error = task.last_error;
    const final = error && FINAL_BUILD_CODES.has(error.code);
    if (final || ['dead', 'timed-out', 'cancelled', 'failed'].includes(task.state)) {
      const code: DeployErrorCode = final ? (error.code as DeployErrorCode) : task.state === 'timed-out' ? 'BUILD_TIMEOUT' : 'BUILD_FAILED';
      const message = error?.message ?? `the build task ended ${task.state}`;
      // A final failure is not retried: the agent would answer the same from its journal.
      await db('tasks').where({ id: task.id }).whereIn('state', ['queued', 'dispatched', 'acknowledged', 'running']).update({ state: 'cancelled', finished_at: db.fn.now(), updated_at: db.fn.now() });
      await finishBuild(db, build.id, 'failed', { code, message });
      return { kind: 'failed', code, message };
    }
    return { kind: 'wait' };
  }
  return { kind: 'failed', code: 'BUILD_FAILED', message: `the build is ${build.status}` };
}

async function finishBuild(db: Db, buildId: string, status: 'failed' | 'cancelled', error: { code: string; message: string }): Promise<void> {
  await db('builds').where({ id: buildId }).whereIn('status', ['queued', 'running']).update({ status, error: JSON.stringify(error), finished_at: db.fn.now() });
}

/** Ends a superseded or deleted deploy's build; the agent's task is cancelled with it. */
export async function cancelBuild(db: Db, buildId: string): Promise<void> {
  await db('tasks').where({ idempotency_key: taskKey(buildId) }).whereIn('state', ['queued', 'dispatched', 'acknowledged', 'running']).update({ state: 'cancelled', finished_at: db.fn.now(), updated_at: db.fn.now() });
  await finishBuild(db, buildId, 'cancelled', { code: 'SUPERSEDED', message: 'the deploy ended before its build' });
}
