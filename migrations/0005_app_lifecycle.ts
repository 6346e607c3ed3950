import type { Knex } from 'knex';

// What the customer API needs to run an app's lifecycle: the release an app currently serves and
// whether it should run; which deploy placed each allocation (a restart re-places the same release,
// so the release alone cannot tell old replicas from new ones) and which allocation a move
// replaces; and a deploy's kind, deadline and
// end, so a control plane that restarts mid-rollout picks the deploy up where it was.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table apps
      add column deleting_since timestamptz,
      add column current_release_id text references releases(id),
      add column current_deploy_id text,
      add column desired_status text not null default 'running' check (desired_status in ('running', 'stopped'));

    alter table allocations
      add column deploy_id text,
      -- a replacement placed because its node drains or went offline: the allocation it replaces
      add column replaces text;
    create index allocations_replaces on allocations (replaces) where replaces is not null and stopped_at is null;
    create index allocations_app_live on allocations (app_id) where stopped_at is null;

    alter table deploys
      add column kind text not null default 'deploy' check (kind in ('deploy', 'rollback', 'restart', 'config')),
      add column deadline_at timestamptz,
      add column finished_at timestamptz,
      -- a deploy step in progress, so two control planes never place one deploy's replicas twice
      add column lease_until timestamptz;
    create index deploys_active on deploys (app_id, created_at) where status in ('queued', 'building', 'releasing');
  `);
}
