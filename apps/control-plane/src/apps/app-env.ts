// An app's environment: each value sealed on its own (secrets/secret-box) and bound to its app and
// name. Non-secret values can be read back; secret ones never leave the control plane except
// inside the desired state of the nodes that run the app. A change cuts a new release with the
// new env and rolls it out, in the same transaction as the change.
import type { Db } from '../db/connect';
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
  const rows = await db('env_vars').where({ app_id: appId }).orderBy('key').select<Array<{ key: string; ciphertext: string; secret: boolean }>>('key', 'ciphertext', 'secret');
  return rows.map((r) => (r.secret ? { key: r.key, secret: true } : { key: r.key, secret: false, value: box.open(r.ciphertext, envVarAad(appId, r.key)) }));
}

export async function patchEnv(db: Db, box: SecretBox, appId: string, patch: EnvPatch, actor: string): Promise<{ vars: EnvVarView[]; deploy: DeployView | undefined }> {
  const deploy = await db.transaction(async (trx) => {
    await trx('apps').where({ id: appId }).forUpdate().first('id');
    const existing = (await trx('env_vars').where({ app_id: appId }).pluck('key')) as string[];
    envNamesAfter(existing, patch);
    if (patch.unset.length > 0) await trx('env_vars').where({ app_id: appId }).whereIn('key', patch.unset).delete();
    if (patch.set.length > 0) {
      await trx('env_vars')
        .insert(patch.set.map((v) => ({ app_id: appId, key: v.key, ciphertext: box.seal(v.value, envVarAad(appId, v.key)), secret: v.secret, updated_at: trx.fn.now() })))
        .onConflict(['app_id', 'key'])
        .merge(['ciphertext', 'secret', 'updated_at']);
    }
    return createDeploy(trx, appId, { kind: 'config' }, actor);
  });
  return { vars: await listEnv(db, box, appId), deploy };
}
