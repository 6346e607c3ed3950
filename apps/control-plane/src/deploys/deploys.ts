// Deploy records: what a customer (or a webhook, or an env change) asks for. Creating one cuts the
// release it will roll out, in the same transaction, under the app row lock; the deploy engine
// does the rest in the background. Newest wins: a new deploy cancels the app's queued ones, and
// the engine cancels a rollout still in progress when a newer deploy waits behind it.
import type { Knex } from 'knex';
import type { Db } from '../db/connect';
import { inTransaction } from '../db/in-transaction';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { getPlan } from '../catalog/plans';
import { DEFAULT_HEALTH_CHECK, type AppRow } from '../apps/app-row';
import { createRelease, getRelease, getReleaseByNumber, type ReleaseConfig, type ReleaseRow } from '../releases/releases';
import { deployView, type DeployKind, type DeployRow, type DeployView } from './deploy-row';

export type DeployRequest =
  /** from the app's source; for git, `ref` is a branch (default: the app's) and `commitSha` the exact commit when known (a push) */
  | { kind: 'deploy'; ref?: string | undefined; commitSha?: string | undefined }
  | { kind: 'rollback'; release: number }
  | { kind: 'restart' }
  /** env changed: roll the current image out again with the new config, when there is one */
  | { kind: 'config' };

/** The app's configuration as a new release would carry it. */
export async function currentReleaseConfig(trx: Knex.Transaction, app: AppRow): Promise<ReleaseConfig> {
  const plan = await getPlan(trx, app.plan_id);
  if (!plan) throw new DomainError('CONFLICT', `the app's plan ${app.plan_id} no longer exists; choose another plan`);
  const vars = await trx('env_vars').where({ app_id: app.id }).orderBy('key').select<Array<{ key: string; ciphertext: string }>>('key', 'ciphertext');
  return {
    port: app.port,
    healthCheck: app.health_check ?? DEFAULT_HEALTH_CHECK,
    plan: { id: plan.id, cpuMillicores: plan.cpuMillicores, memoryMb: plan.memoryMb, diskMb: plan.diskMb },
    env: Object.fromEntries(vars.map((v) => [v.key, v.ciphertext])),
  };
}

async function releaseFor(trx: Knex.Transaction, app: AppRow, request: DeployRequest): Promise<ReleaseRow | undefined> {
  // Read only by the kinds that start from it: a push does not pay for it.
  const current = () => (app.current_release_id ? getRelease(trx, app.current_release_id) : Promise.resolve(undefined));
  switch (request.kind) {
    case 'deploy':
      // A git deploy builds first; its release is cut when the image exists.
      if (app.source.type === 'git') return undefined;
      if (request.ref !== undefined) throw DomainError.validation([{ path: 'ref', message: 'an app with an image source has no ref to deploy; PATCH its source.image instead' }]);
      return createRelease(trx, app.id, { image: app.source.image, config: await currentReleaseConfig(trx, app) });
    case 'config': {
      const now = await current();
      // Never deployed: the new env waits for the first deploy.
      if (!now) return undefined;
      return createRelease(trx, app.id, { image: now.image, commitSha: now.commit_sha, config: await currentReleaseConfig(trx, app) });
    }
    case 'rollback': {
      const old = await getReleaseByNumber(trx, app.id, request.release);
      return createRelease(trx, app.id, { image: old.image, commitSha: old.commit_sha, config: old.config });
    }
    case 'restart': {
      const now = await current();
      if (!now) throw new DomainError('CONFLICT', 'the app has no release running yet: deploy it first');
      return now;
    }
  }
}

/** Cuts the release and queues the deploy; undefined when there was nothing to roll out. */
export async function createDeploy(db: Db | Knex.Transaction, appId: string, request: DeployRequest, createdBy: string | null): Promise<DeployView | undefined> {
  // In the caller's transaction when given one (a push, an env change), without a savepoint.
  return inTransaction(db, async (trx) => {
    const app = await trx('apps').where({ id: appId }).whereNull('deleted_at').forUpdate().first<AppRow | undefined>();
    if (!app || app.status === 'deleting') throw new DomainError('NOT_FOUND', 'app not found');
    const release = await releaseFor(trx, app, request);
    const build = request.kind === 'deploy' && app.source.type === 'git';
    if (!release && !build) return undefined;
    const now = new Date();
    await trx('deploys')
      .where({ app_id: appId, status: 'queued' })
      .update({
        status: 'cancelled',
        error: JSON.stringify({ code: 'SUPERSEDED', message: 'a newer deploy of this app was queued' }),
        finished_at: now,
        updated_at: now,
      });
    const row: Partial<DeployRow> = {
      id: newId('dep'),
      app_id: appId,
      kind: request.kind satisfies DeployKind,
      status: 'queued',
      ref: request.kind === 'deploy' ? (request.ref ?? (app.source.type === 'git' ? app.source.branch : null)) : null,
      commit_sha: release ? release.commit_sha : request.kind === 'deploy' ? (request.commitSha ?? null) : null,
      release_id: release?.id ?? null,
      created_by: createdBy,
    };
    const [inserted] = await trx('deploys')
      .insert({ ...row, phases: JSON.stringify([{ name: 'queued', startedAt: now.toISOString() }]) })
      .returning<DeployRow[]>('*');
    await trx('apps').where({ id: appId }).update({ status: 'deploying', updated_at: now });
    return deployView({ ...inserted!, release_number: release?.number ?? null });
  });
}

const DEPLOY_COLUMNS = 'd.*, (select r.number from releases r where r.id = d.release_id) as release_number';

export async function getDeployView(db: Db, deployId: string): Promise<DeployView> {
  const res = await db.raw<{ rows: Array<DeployRow & { release_number: number | null }> }>(`select ${DEPLOY_COLUMNS} from deploys d where d.id = ?`, [deployId]);
  const row = res.rows[0];
  if (!row) throw new DomainError('NOT_FOUND', 'deploy not found');
  return deployView(row);
}

export async function listDeploys(db: Db, appId: string, page: { limit: number; cursor?: { at: string; id: string } | undefined }) {
  const params: Array<string | number> = [appId];
  let where = 'd.app_id = ?';
  if (page.cursor) {
    where += ' and (d.created_at, d.id) < (?::timestamptz, ?)';
    params.push(page.cursor.at, page.cursor.id);
  }
  params.push(page.limit + 1);
  const res = await db.raw<{ rows: Array<DeployRow & { release_number: number | null }> }>(
    `select ${DEPLOY_COLUMNS} from deploys d where ${where} order by d.created_at desc, d.id desc limit ?`,
    params,
  );
  return res.rows;
}
