// The one place a verified push acts: record the delivery, queue the deploy. Both in one
// transaction, so a delivery id is only spent when its deploy exists (a provider retrying after a
// failure is not told "duplicate"), and the unique (app, provider, delivery) row decides which of
// two concurrent identical deliveries is first. Nothing slow happens here: the deploy engine
// clones and builds in the background, so the provider gets its answer well within a second.
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { createDeploy } from '../deploys/deploys';
import type { HookProvider } from './hook-secret';

export type PushOutcome = { kind: 'queued'; deployId: string } | { kind: 'duplicate' };

export async function recordPush(db: Db, appId: string, provider: HookProvider, push: { deliveryId: string; branch: string; after: string }): Promise<PushOutcome> {
  return db.transaction(async (trx) => {
    const id = newId('whd');
    const inserted = await trx('webhook_deliveries')
      .insert({ id, app_id: appId, provider, delivery_id: push.deliveryId })
      .onConflict(['app_id', 'provider', 'delivery_id'])
      .ignore()
      .returning<Array<{ id: string }>>('id');
    if (inserted.length === 0) return { kind: 'duplicate' };
    // Exactly the pushed commit; createDeploy cancels the app's older queued deploys (newest wins).
    const deploy = await createDeploy(trx, appId, { kind: 'deploy', ref: push.branch, commitSha: push.after }, null);
    if (!deploy) throw new DomainError('CONFLICT', 'nothing to deploy');
    await trx('webhook_deliveries').where({ id }).update({ deploy_id: deploy.id });
    return { kind: 'queued', deployId: deploy.id };
  });
}
