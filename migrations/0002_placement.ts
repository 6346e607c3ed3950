import type { Knex } from 'knex';

// Placement bookkeeping. Each node carries the sum of what its live allocations reserve, so the
// planner checks and reserves capacity with one conditional UPDATE per node at commit instead of
// summing allocations; allocations carry the spec the agent runs (image, env, limits, port, health).
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table nodes
      add column allocated_cpu_millicores integer not null default 0,
      add column allocated_memory_mb integer not null default 0,
      add column allocated_disk_mb integer not null default 0,
      add column allocation_count integer not null default 0;

    alter table allocations
      add column spec jsonb not null default '{}',
      add column session_generation bigint;

    alter table tasks
      add column dispatched_generation bigint,
      add column acked_at timestamptz,
      add column finished_at timestamptz;
    create index tasks_open on tasks (node_id) where state in ('dispatched', 'acknowledged', 'running');
    create index tasks_deadline on tasks (deadline) where state in ('queued', 'dispatched', 'acknowledged', 'running');
  `);
}
