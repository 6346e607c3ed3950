import type { Knex } from 'knex';

// Dispatch claims the tasks of many nodes in one statement, per node the oldest that are queued or
// still open for an older session (dispatch/task-queue.ts). One partial index over every state a
// claim looks at serves that in index order (node, then age) and replaces the two narrower ones,
// which a claim could only combine with a bitmap and a sort: fewer indexes to update on each of a
// task's four or five state changes, too.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create index tasks_claimable on tasks (node_id, created_at) where state in ('queued', 'dispatched', 'acknowledged', 'running');
    drop index tasks_pending;
    drop index tasks_open;
  `);
}
