import type { Knex } from 'knex';
import type { Task, TaskKind, TaskSpecs } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { directTargets, type Holder } from './direct-dispatch';
import { commitOf } from './local-wakeups';
import { NODE_CHANNEL, wakeupsFor } from './node-wakeups';

// A durable queue in PostgreSQL. States: queued → dispatched → acknowledged → running →
// succeeded | failed | timed-out | cancelled, and `dead` after MAX_ATTEMPTS failed deliveries.
// Every transition is a conditional update, so duplicate or late frames change nothing
// (replies from agents are applied in task-replies.ts).

export const MAX_ATTEMPTS = 3;
export const OPEN_STATES = ['dispatched', 'acknowledged', 'running'] as const;

export interface NewTask<K extends TaskKind = TaskKind> {
  nodeId: string;
  kind: K;
  payload: TaskSpecs[K];
  idempotencyKey: string;
  deadline: Date;
}

/** Queues a task once per idempotency key; a repeat returns the first task's id. */
export async function enqueueTask(db: Db | Knex.Transaction, task: NewTask): Promise<{ id: string; created: boolean }> {
  const [result] = await enqueueTasks(db, [task]);
  return result!;
}

/**
 * Queues tasks once per idempotency key, in ONE statement: the rows and the NOTIFY that wakes the
 * nodes' dispatchers (delivered at commit, so never before the rows are visible). Only keys seen
 * before cost a second statement, to return the first task's id. Results are in input order.
 *
 * Outside a transaction, a task for a node whose socket a dispatcher of this process holds (and is
 * not flushing: direct-dispatch.ts) is written already claimed for that session, when the node has
 * nothing due that a claim would send first, and is sent as soon as the statement returns: the row
 * is durable before the frame, as a claim would have it. The others are queued, and this process's
 * dispatchers woken in-process (local-wakeups.ts); NOTIFY wakes the other control planes.
 */
export async function enqueueTasks(db: Db | Knex.Transaction, tasks: readonly NewTask[]): Promise<Array<{ id: string; created: boolean }>> {
  if (tasks.length === 0) return [];
  const nodeIds = [...new Set(tasks.map((t) => t.nodeId))];
  // Only an autocommit statement is known durable when it returns.
  const direct = commitOf(db) === undefined ? directTargets(nodeIds) : new Map<string, Holder>();
  // Nodes held here need no NOTIFY (no other control plane holds them; what is queued for them is
  // woken in-process below), and a NOTIFY holds PostgreSQL's one notification lock to the end of
  // the commit, which every other notifying commit waits for.
  const wake = wakeupsFor(
    db,
    nodeIds.filter((id) => !direct.has(id)),
    'task',
  );
  const rows = tasks.map((t) => ({
    id: newId('task'),
    node_id: t.nodeId,
    kind: t.kind,
    payload: t.payload,
    idempotency_key: t.idempotencyKey,
    deadline: t.deadline.toISOString(),
    g: direct.get(t.nodeId)?.session ?? null,
  }));
  const res = await db.raw<{ rows: Array<{ id: string; idempotency_key: string; node_id: string; state: string; created_at: Date }> }>(
    `with x as (
       select x.*, x.g is not null and x.deadline > now() and not exists (
           -- what a claim for this session would send first: due queued tasks, and open ones of
           -- an earlier session (the claim's own conditions, on the same partial index)
           select 1 from tasks o
           where o.node_id = x.node_id
             and o.state in ('queued', 'dispatched', 'acknowledged', 'running')
             and (o.deadline is null or o.deadline > now())
             and ((o.state = 'queued' and o.next_attempt_at <= now())
                  or (o.state <> 'queued' and o.dispatched_generation is distinct from x.g))) as direct
       from json_to_recordset(?::json) as x(id text, node_id text, kind text, payload jsonb, idempotency_key text, deadline timestamptz, g bigint)),
     ins as (
       insert into tasks (id, node_id, kind, payload, idempotency_key, deadline, state, attempts, dispatched_generation)
       select id, node_id, kind, payload, idempotency_key, deadline,
         case when direct then 'dispatched' else 'queued' end, case when direct then 1 else 0 end, case when direct then g end
       from x
       on conflict (idempotency_key) do nothing
       returning id, idempotency_key, node_id, state, created_at),
     woken as (
       select pg_notify(?, p) from unnest(?::text[]) p
       where exists (select 1 from ins))
     select id, idempotency_key, node_id, state, created_at from ins
     -- referenced so that the NOTIFY runs (an unreferenced SELECT in WITH is never evaluated)
     where (select count(*) from woken) >= 0`,
    [JSON.stringify(rows), NODE_CHANNEL, wake.payloads],
  );
  const created = new Map(res.rows.map((r) => [r.idempotency_key, r]));
  // Claimed at insert: out now, in input order, a node's before anything a later flush sends it.
  for (const [i, t] of tasks.entries()) {
    const row = created.get(t.idempotencyKey);
    const target = direct.get(t.nodeId);
    if (!row || row.state !== 'dispatched' || !target || row.id !== rows[i]!.id) continue;
    target.via.sendDirect(t.nodeId, {
      id: row.id,
      kind: t.kind,
      payload: t.payload,
      idempotencyKey: t.idempotencyKey,
      deadline: t.deadline.toISOString(),
      attempt: 1,
      sessionGeneration: target.session,
    } as Task);
  }
  // Only when something was written did the NOTIFY go out; this process's dispatchers are woken
  // in-process (at once, or at the enclosing transaction's commit) for what was queued.
  const queuedFor = [...new Set(res.rows.filter((r) => r.state === 'queued').map((r) => r.node_id))];
  if (queuedFor.length > 0) wake.woken(queuedFor);
  const missing = tasks.filter((t) => !created.has(t.idempotencyKey)).map((t) => t.idempotencyKey);
  const existing = new Map<string, string>();
  if (missing.length > 0) {
    const found = await db('tasks').whereIn('idempotency_key', missing).select<Array<{ id: string; idempotency_key: string }>>('id', 'idempotency_key');
    for (const r of found) existing.set(r.idempotency_key, r.id);
  }
  // A key repeated inside one call: the first occurrence created it, the later ones see it.
  const seen = new Set<string>();
  return tasks.map((t) => {
    const id = created.get(t.idempotencyKey)?.id;
    if (id !== undefined && !seen.has(t.idempotencyKey)) {
      seen.add(t.idempotencyKey);
      return { id, created: true };
    }
    return { id: id ?? existing.get(t.idempotencyKey)!, created: false };
  });
}

interface ClaimedRow {
  id: string;
  node_id: string;
  kind: TaskKind;
  payload: unknown;
  idempotency_key: string;
  deadline: Date;
  attempts: number;
  created_at: Date;
  session_generation: string;
}

/** A node's current session here, for which tasks are claimed. */
export interface ClaimFor {
  nodeId: string;
  sessionGeneration: number;
}

/**
 * Claims, in ONE statement for many nodes, what to send each node's current session: queued tasks
 * that are due, and tasks left open by an earlier session (redelivery after a reconnect: the
 * agent's journal turns a repeat into the recorded result); at most `perNode` each, oldest first.
 * SKIP LOCKED lets several control planes claim without waiting on each other.
 *
 * The claim commits asynchronously (synchronous_commit off for this transaction only; the server
 * default stays on). It sits on the latency path between commit and frame, and a WAL flush there
 * costs the disk's fsync tail (measured ~20 ms p99 on the benchmark machine). Losing it is safe:
 * the task row itself was committed durably by whoever queued it; a claim lost in a database crash
 * leaves the task queued or open for an older session, so it is claimed and sent again, and the
 * agent's journal answers the repeat by its idempotency key. Any later durable commit (an ack, a
 * result) flushes the WAL before it, so a claim is never lost behind a reply that was kept.
 */
export async function claimForDispatch(db: Db, nodes: readonly ClaimFor[], perNode = 100): Promise<Array<{ nodeId: string; task: Task }>> {
  if (nodes.length === 0) return [];
  const rows = await db.raw<{ rows: ClaimedRow[] }>(
    `with s as (
       select s.node_id, s.g from unnest(?::text[], ?::bigint[]) as s(node_id, g),
         (select set_config('synchronous_commit', 'off', true)) as async_commit),
     c as (
       select x.id, s.g from s cross join lateral (
         select id from tasks
         where node_id = s.node_id
           and state in ('queued', 'dispatched', 'acknowledged', 'running')
           and (deadline is null or deadline > now())
           and ((state = 'queued' and next_attempt_at <= now())
                or (state <> 'queued' and dispatched_generation is distinct from s.g))
         order by created_at
         limit ?
         for update skip locked) x)
     update tasks t set state = 'dispatched', attempts = t.attempts + 1, dispatched_generation = c.g, updated_at = now()
     from c where t.id = c.id
     returning t.id, t.node_id, t.kind, t.payload, t.idempotency_key, t.deadline, t.attempts, t.created_at, c.g as session_generation`,
    [nodes.map((n) => n.nodeId), nodes.map((n) => n.sessionGeneration), perNode],
  );
  // RETURNING has no order: restore the queue's, oldest first.
  return rows.rows
    .sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
    .map((r) => ({
      nodeId: r.node_id,
      task: {
        id: r.id,
        kind: r.kind,
        payload: r.payload,
        idempotencyKey: r.idempotency_key,
        deadline: r.deadline.toISOString(),
        attempt: r.attempts,
        sessionGeneration: Number(r.session_generation),
      } as Task,
    }));
}

/** Tasks past their deadline without a result end as timed-out (any control plane may run this). */
export async function expireOverdue(db: Db): Promise<number> {
  return db('tasks')
    .whereIn('state', ['queued', ...OPEN_STATES])
    .where('deadline', '<', db.fn.now())
    .update({ state: 'timed-out', last_error: JSON.stringify({ code: 'DEADLINE_EXCEEDED', message: 'no result before the deadline' }), finished_at: db.fn.now(), updated_at: db.fn.now() });
}
