import type { Knex } from 'knex';

// Private git repositories (apps/control-plane/src/apps/git-credentials.ts, deploy-keys.ts):
// - an https token, sealed (secret box, AAD bound to the app), with the username git sends;
// - the app's ssh deploy key: the public half in authorized_keys form, the private half sealed;
// - the ssh host keys the app's builds have met (trust on first use), as known_hosts lines.
// None of these is in `apps.source`, which the API returns as it is stored.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table apps
      add column git_token_ciphertext text,
      add column git_token_username text,
      add column deploy_key_public text,
      add column deploy_key_private_ciphertext text,
      add column deploy_key_created_at timestamptz,
      add column git_known_hosts text;
  `);
}
