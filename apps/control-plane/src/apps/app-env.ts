// An app's environment: each value sealed on its own (secrets/secret-box) and bound to its app and
// name. Non-secret values can be read back; secret ones never leave the control plane except
// inside the desired state of the nodes that run the app. A change cuts a new release with the
// new env and rolls it out, in the same transaction as the change.
import type { Db } from '../db/connect';
import { preparedQuery } from '../access/prepared-query';
import type { SecretBox } from '../secrets/secret-box';
import { envNamesAfter, envVarAad, type EnvPatch } from '../secrets/env-vars';
import { createDeploy } from '../deploys/deploys';
import type { DeployView } from '../deploys/deploy-row';

export interface EnvVarView {
  key: string;
  secret: boolean;
  value?: string;
}

export async function listEnv(db: Db, box: SecretBox, appId: string): Promise<EnvVarView[]> {
  const rows = await preparedQuery<{ key: string; ciphertext: string; secret: boolean }>(db, 'env_list', 'select key, ciphertext, secret from env_vars where app_id = $1 order by key', [appId]);
  return rows.map((r) => (r.secret ? { key: r.key, secret: true } : { key: r.key, secret: false, value: box.open(r.ciphertext, envVarAad(appId, r.key)) }));
}

export async function patchEnv(db: Db, box: SecretBox, appId: string, patch: EnvPatch, actor: string): Promise<{ vars: EnvVarView[]; deploy: DeployView | undefined }> {
  const deploy = await db.transaction(async (trx) => {
    // The app row locked first, then the names read: concurrent changes of one app's env queue here.
    const [app] = await preparedQuery<{ current_release_id: string | null; status: string; deleted_at: Date | null }>(
      trx,
      'env_lock_app_release',
      'select current_release_id, status, deleted_at from apps where id = $1 for update',
      [appId],
    );
    const existing = (await preparedQuery<{ key: string }>(trx, 'env_keys', 'select key from env_vars where app_id = $1', [appId])).map((r) => r.key);
    envNamesAfter(existing, patch);
    if (patch.unset.length > 0) await trx('env_vars').where({ app_id: appId }).whereIn('key', patch.unset).delete();
    if (patch.set.length > 0) {
      await trx('env_vars')
        .insert(patch.set.map((v) => ({ app_id: appId, key: v.key, ciphertext: box.seal(v.value, envVarAad(appId, v.key)), secret: v.secret, updated_at: trx.fn.now() })))
        .onConflict(['app_id', 'key'])
        .merge(['ciphertext', 'secret', 'updated_at']);
    }
    // Never deployed (and not going away): the new env waits for the first deploy, and there is
    // no release to cut, so the deploy's own lock and reads are not worth their round trips.
    if (app && app.current_release_id === null && app.status !== 'deleting' && app.deleted_at === null) return undefined;
    return createDeploy(trx, appId, { kind: 'config' }, actor);
  });
  return { vars: await listEnv(db, box, appId), deploy };
}
