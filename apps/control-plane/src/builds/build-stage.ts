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
  const branch = d.ref ?? app.source.branch;
  // The build, its task and the region's registry in one round trip: this read is on the way from
  // a build's end to the release's replicas.
  const known = d.build_id ? await readBuild(db, d.build_id, app.region_id) : undefined;
  if (!known || known.build.status === 'queued') return startBuild(deps, d, app, known?.build, branch);
  const { build, task, registry } = known;

  if (build.status === 'running') {
    // Running with no task: the control plane stopped between the build's commit and its task's
    // (startBuild). The key makes queueing it again safe whoever does it first.
    if (!task) {
      if (build.node_id) await enqueueBuildTask(db, app, build, build.node_id, registry, branch);
      return { kind: 'wait' };
    }
    if (task.state === 'succeeded') {
      const parsed = buildResultSchema.safeParse(task.result);
      if (!parsed.success) {
        await finishBuild(db, build.id, 'failed', { code: 'BUILD_FAILED', message: 'the builder answered without an image' });
        return { kind: 'failed', code: 'BUILD_FAILED', message: 'the builder answered without an image' };
      }
      const release = await db.transaction(async (trx) => {
        const locked = await trx('apps').where({ id: app.id }).forUpdate().first<AppRow>();
        const config = await currentReleaseConfig(trx, locked ?? app);
        // Without a registry the image exists only where it was built: replicas go there.
        const pinned = registry ? config : { ...config, pinnedNode: build.node_id ?? undefined };
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

/**
 * Chooses a builder and starts the build: its row (running, on that node) and the deploy's move to
 * `building` in one transaction, then the task in its own statement, which this control plane
 * sends at once when it holds the builder's socket (task-queue.ts); inside the transaction it
 * would wait for the dispatcher's claim. A stop between the two is repaired by the next step.
 */
async function startBuild(deps: { db: Db; planner: Planner }, d: DeployRow, app: AppRow, queued: BuildRow | undefined, branch: string): Promise<BuildStep> {
  const { db } = deps;
  const buildId = queued?.id ?? newId('bld');
  const [chosen, region] = await Promise.all([
    deps.planner.chooseBuildNode({ buildId, appId: app.id, region: app.region_id, limits: { cpuMillicores: BUILD_LIMITS.cpuMillicores, memoryMb: BUILD_LIMITS.memoryMb, diskMb: 0 } }),
    db('regions').where({ id: app.region_id }).first<{ registry_url: string | null } | undefined>('registry_url'),
  ]);
  // Every builder busy with other builds: the build waits its turn (builds end, by their timeout at the latest).
  const slotsFull = !chosen.ok && chosen.failure.reasons.length > 0 && chosen.failure.reasons.every((r) => r.reason === REASON.buildSlots);
  const nodeId = chosen.ok ? chosen.nodeId : null;
  const build = queued && nodeId === null ? queued : await recordStart(db, d, app, queued, buildId, nodeId);
  if (!build || slotsFull) return { kind: 'wait' };
  if (!chosen.ok) {
    await finishBuild(db, build.id, 'failed', { code: 'NO_CAPACITY', message: chosen.failure.message });
    return { kind: 'failed', code: 'NO_CAPACITY', message: `no builder: ${chosen.failure.message}`, details: { reasons: chosen.failure.reasons } };
  }
  await enqueueBuildTask(db, app, build, chosen.nodeId, region?.registry_url ?? null, branch);
  return { kind: 'wait' };
}

/** The build row (new, or the queued one taken) and the deploy's move to `building`; undefined when another step took the queued build first. */
function recordStart(db: Db, d: DeployRow, app: AppRow, queued: BuildRow | undefined, buildId: string, nodeId: string | null): Promise<BuildRow | undefined> {
  return db.transaction(async (trx) => {
    if (queued) {
      const took = await trx('builds').where({ id: queued.id, status: 'queued' }).update({ node_id: nodeId, status: 'running', started_at: trx.fn.now() });
      return took === 0 ? undefined : { ...queued, node_id: nodeId, status: 'running' as const };
    }
    const now = new Date();
    const [row] = await trx('builds')
      .insert({ id: buildId, app_id: app.id, commit_sha: d.commit_sha, status: nodeId === null ? 'queued' : 'running', node_id: nodeId, started_at: nodeId === null ? null : now })
      .returning<BuildRow[]>('*');
    d.phases = advancePhases(d.phases, 'building', now);
    await trx('deploys').where({ id: d.id }).update({ build_id: buildId, status: 'building', phases: JSON.stringify(d.phases), updated_at: now });
    d.status = 'building';
    return row;
  });
}

async function enqueueBuildTask(db: Db, app: AppRow, build: BuildRow, nodeId: string, registry: string | null, branch: string): Promise<void> {
  await enqueueTask(db, {
    nodeId,
    kind: 'build',
    payload: buildTaskSpec(app, build, { registry, branch }),
    idempotencyKey: taskKey(build.id),
    deadline: new Date(Date.now() + BUILD_LIMITS.timeoutMs + 120_000),
  });
}

interface BuildTaskRow {
  id: string;
  state: string;
  result: unknown;
  last_error: { code: string; message: string } | null;
}

async function readBuild(db: Db, buildId: string, regionId: string): Promise<{ build: BuildRow; task: BuildTaskRow | undefined; registry: string | null } | undefined> {
  const res = await db.raw<{ rows: Array<BuildRow & { t_id: string | null; t_state: string; t_result: unknown; t_last_error: BuildTaskRow['last_error']; registry_url: string | null }> }>(
    `select b.*, t.id as t_id, t.state as t_state, t.result as t_result, t.last_error as t_last_error,
            (select registry_url from regions where id = ?) as registry_url
     from builds b left join tasks t on t.idempotency_key = ? where b.id = ?`,
    [regionId, taskKey(buildId), buildId],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  const { t_id, t_state, t_result, t_last_error, registry_url, ...build } = row;
  return { build, task: t_id === null ? undefined : { id: t_id, state: t_state, result: t_result, last_error: t_last_error }, registry: registry_url };
}

async function finishBuild(db: Db, buildId: string, status: 'failed' | 'cancelled', error: { code: string; message: string }): Promise<void> {
  await db('builds').where({ id: buildId }).whereIn('status', ['queued', 'running']).update({ status, error: JSON.stringify(error), finished_at: db.fn.now() });
}

/** Ends a superseded or deleted deploy's build; the agent's task is cancelled with it. */
export async function cancelBuild(db: Db, buildId: string): Promise<void> {
  await db('tasks').where({ idempotency_key: taskKey(buildId) }).whereIn('state', ['queued', 'dispatched', 'acknowledged', 'running']).update({ state: 'cancelled', finished_at: db.fn.now(), updated_at: db.fn.now() });
  await finishBuild(db, buildId, 'cancelled', { code: 'SUPERSEDED', message: 'the deploy ended before its build' });
}
