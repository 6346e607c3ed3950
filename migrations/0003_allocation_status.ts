import type { Knex } from 'knex';

// What the agent last reported for each allocation (heartbeats): a message for failed or unhealthy
// ones (crash-loop, health check, create errors) and live CPU/memory for the instances view.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table allocations
      add column status_message text,
      add column cpu_percent real,
      add column memory_used_mb real,
      add column reported_at timestamptz;
  `);
}
