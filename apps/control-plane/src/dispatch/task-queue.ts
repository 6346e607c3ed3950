import type { Knex } from 'knex';
import type { Task, TaskKind, TaskResultPayload, TaskSpecs } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { notifyNodes } from './node-wakeups';

// A durable queue in PostgreSQL. States: queued → dispatched → acknowledged → running →
// succeeded | failed | timed-out | cancelled, and `dead` after MAX_ATTEMPTS failed deliveries.
// Every transition is a conditional update, so duplicate or late frames change nothing.

export const MAX_ATTEMPTS = 3;
const OPEN_STATES = ['dispatched', 'acknowledged', 'running'] as const;

export interface NewTask<K extends TaskKind = TaskKind> {
  nodeId: string;
  kind: K;
  payload: TaskSpecs[K];
  idempotencyKey: string;
  deadline: Date;
}

/** Queues a task once per idempotency key; a repeat returns the first task's id. */
export async function enqueueTask(db: Db | Knex.Transaction, task: NewTask): Promise<{ id: string; created: boolean }> {
  const id = newId('task');
  const inserted = await db('tasks')
    .insert({ id, node_id: task.nodeId, kind: task.kind, payload: JSON.stringify(task.payload), idempotency_key: task.idempotencyKey, deadline: task.deadline })
    .onConflict('idempotency_key')
    .ignore()
    .returning<Array<{ id: string }>>('id');
  if (inserted.length > 0) {
    await notifyNodes(db, [task.nodeId], 'task');
    return { id, created: true };
  }
  const existing = await db('tasks').where({ idempotency_key: task.idempotencyKey }).first<{ id: string }>('id');
  return { id: existing.id, created: false };
}

interface TaskRow {
  id: string;
  kind: TaskKind;
  payload: unknown;
  idempotency_key: string;
  deadline: Date;
  attempts: number;
}

/**
 * Claims what to send a node's current session: queued tasks that are due, and tasks left open by
 * an earlier session (redelivery after a reconnect: the agent's journal turns a repeat into the
 * recorded result). SKIP LOCKED lets several control planes claim without waiting on each other.
 */
export async function claimForDispatch(db: Db, nodeId: string, sessionGeneration: number, limit = 100): Promise<Array<Task>> {
  const rows = await db.raw<{ rows: TaskRow[] }>(
    `update tasks t set state = 'dispatched', attempts = t.attempts + 1, dispatched_generation = ?, updated_at = now()
     where t.id in (
       select id from tasks
       where node_id = ?
         and (deadline is null or deadline > now())
         and ((state = 'queued' and next_attempt_at <= now())
              or (state in ('dispatched', 'acknowledged', 'running') and dispatched_generation is distinct from ?))
       order by created_at
       limit ?
       for update skip locked)
     returning t.id, t.kind, t.payload, t.idempotency_key, t.deadline, t.attempts`,
    [sessionGeneration, nodeId, sessionGeneration, limit],
  );
  return rows.rows.map(
    (r) =>
      ({
        id: r.id,
        kind: r.kind,
        payload: r.payload,
        idempotencyKey: r.idempotency_key,
        deadline: r.deadline.toISOString(),
        attempt: r.attempts,
        sessionGeneration,
      }) as Task,
  );
}

export async function markAcknowledged(db: Db, nodeId: string, taskId: string): Promise<void> {
  await db('tasks').where({ id: taskId, node_id: nodeId, state: 'dispatched' }).update({ state: 'acknowledged', acked_at: db.fn.now(), updated_at: db.fn.now() });
}

export async function markRunning(db: Db, nodeId: string, taskId: string): Promise<void> {
  await db('tasks').where({ id: taskId, node_id: nodeId }).whereIn('state', ['dispatched', 'acknowledged']).update({ state: 'running', updated_at: db.fn.now() });
}

/** Records a result once; a failure is retried with backoff until MAX_ATTEMPTS, then dead-lettered. */
export async function recordResult(db: Db, nodeId: string, result: TaskResultPayload): Promise<void> {
  const open = db('tasks').where({ id: result.taskId, node_id: nodeId }).whereIn('state', [...OPEN_STATES]);
  if (result.status === 'succeeded') {
    await open.update({ state: 'succeeded', result: JSON.stringify(result.result), finished_at: db.fn.now(), updated_at: db.fn.now() });
    return;
  }
  await open.update({
    state: db.raw(`case when attempts >= ? then 'dead' else 'queued' end`, [MAX_ATTEMPTS]),
    last_error: JSON.stringify(result.error),
    next_attempt_at: db.raw(`now() + make_interval(secs => power(2, attempts))`),
    finished_at: db.raw(`case when attempts >= ? then now() end`, [MAX_ATTEMPTS]),
    updated_at: db.fn.now(),
  });
}

/** Tasks past their deadline without a result end as timed-out (any control plane may run this). */
export async function expireOverdue(db: Db): Promise<number> {
  return db('tasks')
    .whereIn('state', ['queued', ...OPEN_STATES])
    .where('deadline', '<', db.fn.now())
    .update({ state: 'timed-out', last_error: JSON.stringify({ code: 'DEADLINE_EXCEEDED', message: 'no result before the deadline' }), finished_at: db.fn.now(), updated_at: db.fn.now() });
}
