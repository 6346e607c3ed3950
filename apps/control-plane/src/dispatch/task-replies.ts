import type { TaskResultPayload } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { MAX_ATTEMPTS } from './task-queue';

/** A task reply from an agent, as the dispatcher hands it over. */
export type TaskReply =
  | { nodeId: string; type: 'task-ack'; taskId: string }
  | { nodeId: string; type: 'task-progress'; taskId: string }
  | { nodeId: string; type: 'task-result'; result: TaskResultPayload };

/** Everything a batch says about one task, applied by one row of one UPDATE. */
export interface TaskTransition {
  id: string;
  node_id: string;
  acked: boolean;
  running: boolean;
  status: 'succeeded' | 'failed' | null;
  result: unknown;
  error: unknown;
}

/**
 * Folds a batch of replies (in arrival order) into one transition per task, so a single UPDATE
 * can apply them: a row may be updated only once per statement. The first result wins, as it
 * would applied one by one (the task is no longer open after it); a repeated ack or progress
 * changes nothing. Replies naming a task for another node stay apart and are then refused by
 * the update's node check.
 */
export function foldTaskReplies(replies: readonly TaskReply[]): TaskTransition[] {
  const byTask = new Map<string, TaskTransition>();
  for (const r of replies) {
    const taskId = r.type === 'task-result' ? r.result.taskId : r.taskId;
    const key = `${r.nodeId} ${taskId}`;
    let t = byTask.get(key);
    if (!t) byTask.set(key, (t = { id: taskId, node_id: r.nodeId, acked: false, running: false, status: null, result: null, error: null }));
    if (r.type === 'task-ack') t.acked = true;
    else if (r.type === 'task-progress') t.running = true;
    else if (t.status === null) {
      t.status = r.result.status;
      if (r.result.status === 'succeeded') t.result = r.result.result;
      else t.error = r.result.error;
    }
  }
  return [...byTask.values()];
}

/**
 * Applies folded replies in ONE statement. Every transition is conditional on the task being open
 * on that node, as applying them one at a time was: an ack moves `dispatched` to `acknowledged`,
 * progress moves `dispatched`/`acknowledged` to `running`, a success finishes the task, a failure
 * queues it again with exponential backoff or dead-letters it after MAX_ATTEMPTS. Replies for
 * tasks that are finished (a duplicate, a late frame from an old session) match nothing.
 */
export async function applyTaskReplies(db: Db, transitions: readonly TaskTransition[]): Promise<number> {
  if (transitions.length === 0) return 0;
  const updated = await db.raw<{ rowCount: number }>(
    `update tasks t set
       state = case
         when r.status = 'succeeded' then 'succeeded'
         when r.status = 'failed' then case when t.attempts >= ? then 'dead' else 'queued' end
         when r.running and t.state in ('dispatched', 'acknowledged') then 'running'
         when r.acked and t.state = 'dispatched' then 'acknowledged'
         else t.state end,
       acked_at = case when r.acked and t.state = 'dispatched' then now() else t.acked_at end,
       result = case when r.status = 'succeeded' then r.result else t.result end,
       last_error = case when r.status = 'failed' then r.error else t.last_error end,
       next_attempt_at = case when r.status = 'failed' then now() + make_interval(secs => power(2, t.attempts)) else t.next_attempt_at end,
       finished_at = case
         when r.status = 'succeeded' then now()
         when r.status = 'failed' then case when t.attempts >= ? then now() end
         else t.finished_at end,
       updated_at = now()
     from json_to_recordset(?::json) as r(id text, node_id text, acked boolean, running boolean, status text, result jsonb, error jsonb)
     where t.id = r.id and t.node_id = r.node_id and t.state in ('dispatched', 'acknowledged', 'running')`,
    [MAX_ATTEMPTS, MAX_ATTEMPTS, JSON.stringify(transitions)],
  );
  return updated.rowCount;
}

/**
 * Records the desired-state generations agents applied, in ONE statement for the batch (the
 * highest per node when a batch has several); never past the generation the database holds, never
 * backwards. The rows are locked in id order first (the sorted FOR NO KEY UPDATE, read once), as the
 * planner's commit and the liveness writer lock them: an UPDATE … FROM alone locks in whatever
 * order its plan scans, and could deadlock with them.
 *
 * It commits asynchronously (synchronous_commit off for this statement's transaction only): the
 * node rows' locks are then not held through a WAL flush, which the planner's commits to the same
 * rows would wait out. An ack lost in a database crash leaves the node's applied generation
 * behind its desired one, so the poll sends the (same) state again and the agent acks it again.
 */
export async function applyStateAcks(db: Db, acks: ReadonlyMap<string, number>): Promise<void> {
  if (acks.size === 0) return;
  await db.raw(
    `with l as materialized (select id from nodes, (select set_config('synchronous_commit', 'off', true)) as async_commit
       where id = any(?::text[]) order by id for no key update of nodes)
     update nodes n set applied_generation = least(a.g, n.desired_generation)
     from l, unnest(?::text[], ?::bigint[]) as a(id, g)
     where n.id = l.id and n.id = a.id and n.applied_generation < least(a.g, n.desired_generation)`,
    [[...acks.keys()], [...acks.keys()], [...acks.values()]],
  );
}
