import pg from 'pg';
import type { Logger } from 'pino';
import type { DesiredStatePayload, Frame, FrameToControlPlane, Task } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { loadDesiredStates, type DesiredStateContext } from './desired-state';
import { offerDirectDispatch } from './direct-dispatch';
import { FlushQueue, type NodeWork } from './flush-queue';
import type { WorkKind } from './node-wakeups';
import { createReplyWriter } from './reply-writer';
import { claimForDispatch, expireOverdue } from './task-queue';

/** What the dispatcher needs from the hub: who is connected here, and a way to send to them. */
export interface SessionsHere {
  sessionGeneration(nodeId: string): number | undefined;
  send(nodeId: string, frame: Frame): boolean;
  connectedNodeIds(): string[];
  /** closes a node's socket held here because the node was revoked */
  revoke(nodeId: string): void;
}

export interface Dispatcher {
  /** a session became ready: send its desired state and every task it should have */
  sessionReady(nodeId: string): void;
  sessionEnded(nodeId: string): void;
  /** hints from NOTIFY (or the planner in this process); without a kind, everything is checked */
  wake(nodeIds: readonly string[], kind?: WorkKind): void;
  /** replies from agents: acks, progress, results */
  onAgentFrame(nodeId: string, frame: FrameToControlPlane): void;
  /** resolves when every pending flush has run and every reply is written (tests, shutdown) */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Nodes per batch: one statement for their desired states, one for their tasks. */
const MAX_BATCH_NODES = 256;
/** Batches at once; each holds up to two pooled connections. */
const MAX_BATCHES = 2;
/** Tasks claimed per node per batch; a node with more is flushed again at once. */
const CLAIM_PER_NODE = 100;

/**
 * Moves committed work onto sockets, in batches: the nodes woken meanwhile (NOTIFY, a new session,
 * the poll) are flushed together, with ONE statement loading the desired states of those whose
 * state changed and ONE claiming the due tasks of those whose queue did, run side by side; then the
 * frames go out, a node's desired state before its tasks. At most MAX_BATCHES batches run at once
 * and a node is in one batch at a time (FlushQueue), so while the database answers, wake-ups pile up
 * into the next batch instead of into statements. A desired state goes out only if its generation
 * is newer than what this session already got. A poll every `pollMs` re-checks every node held
 * here, so a lost NOTIFY costs latency, never work. Replies are written in batches (reply-writer.ts).
 */
export function createDispatcher(deps: {
  db: Db;
  logger: Logger;
  sessions: SessionsHere;
  pollMs?: number;
  desiredState?: DesiredStateContext;
  /** opens sealed values a task row keeps (a build's git credential) into the frame only */
  openTask?: (task: Task) => Task;
  /**
   * Tasks queued by this process for nodes held here go straight out, claimed at their insert
   * (direct-dispatch.ts), instead of through a wake-up and a claim (default on). Off: every task
   * is claimed (tests of the claim path).
   */
  direct?: boolean;
}): Dispatcher {
  const { db, logger, sessions } = deps;
  /** the newest desired-state generation sent to each node's session here */
  const sent = new Map<string, { session: number; generation: number }>();
  const queue = new FlushQueue();
  const running = new Set<Promise<void>>();
  const replies = createReplyWriter({ db, logger });
  let kickScheduled = false;
  let stopped = false;

  /** A frame for a node's session, if that session is still the one connected here. */
  const sendTo = (nodeId: string, session: number, frame: Frame): boolean => sessions.sessionGeneration(nodeId) === session && sessions.send(nodeId, frame);
  /**
   * A desired state goes out only if newer than what its session got: whichever of a flush and a
   * planner's commit (direct) read it, an older state never follows a newer one. False when the
   * session is gone; true when sent or when one as new went out already.
   */
  const offerState = (nodeId: string, state: DesiredStatePayload): boolean => {
    const last = sent.get(nodeId);
    const already = last?.session === state.sessionGeneration ? last.generation : -1;
    if (state.generation <= already) return true;
    if (!sendTo(nodeId, state.sessionGeneration, { type: 'desired-state', payload: state })) return false;
    sent.set(nodeId, { session: state.sessionGeneration, generation: state.generation });
    return true;
  };
  const withdrawDirect = (deps.direct ?? true)
    ? offerDirectDispatch({
        // Not while the node waits for a flush or is in one: its frames then go out in order.
        directSession: (nodeId) => (stopped || queue.has(nodeId) ? undefined : sessions.sessionGeneration(nodeId)),
        sendDirect: (nodeId, task) => {
          // The task is committed: a failure here must not fail the caller that queued it. Left
          // open for this session, it goes to the node's next one, as a claimed task not sent does.
          try {
            return sendTo(nodeId, task.sessionGeneration, { type: 'task', payload: deps.openTask ? deps.openTask(task) : task });
          } catch (err) {
            logger.warn({ err, nodeId, taskId: task.id }, 'sending a task at its insert failed; the next session gets it');
            return false;
          }
        },
        stateSession: (nodeId) => (stopped ? undefined : sessions.sessionGeneration(nodeId)),
        // Inside the planner's transaction. A state that cannot be built (a sealed value this
        // process cannot open) must not fail the placement: that node is left to the flush, which
        // reports it as always. A statement's error is the transaction's and is not swallowed (its
        // COMMIT would otherwise roll back without an error).
        loadStates: (trx, nodes) =>
          loadDesiredStates(trx, nodes, deps.desiredState, db).catch((err: unknown) => {
            if (err instanceof pg.DatabaseError) throw err;
            return new Map<string, DesiredStatePayload>();
          }),
        sendState: (nodeId, state) => {
          try {
            return offerState(nodeId, state);
          } catch (err) {
            logger.warn({ err, nodeId }, 'sending a desired state at its commit failed; a flush sends it');
            return false;
          }
        },
      })
    : undefined;

  async function flush(batch: ReadonlyArray<[string, NodeWork]>): Promise<void> {
    const here = batch.flatMap(([nodeId, work]) => {
      const session = sessions.sessionGeneration(nodeId);
      return session === undefined ? [] : [{ nodeId, sessionGeneration: session, work }];
    });
    const wantState = here.filter((n) => n.work.state);
    const wantTasks = here.filter((n) => n.work.tasks);
    const claims = claimForDispatch(db, wantTasks, CLAIM_PER_NODE);
    // Desired states go out as soon as they are read, without waiting for the claim beside them.
    const revoked = new Set<string>();
    const statesSent = loadDesiredStates(db, wantState, deps.desiredState).then(
      (states) => {
        for (const n of wantState) {
          const state = states.get(n.nodeId);
          // No state means the node was revoked, perhaps through another control plane: its
          // socket here is closed at once rather than at its next token refresh.
          if (!state) {
            revoked.add(n.nodeId);
            sessions.revoke(n.nodeId);
            continue;
          }
          offerState(n.nodeId, state);
        }
      },
      (err: unknown) => logger.warn({ err, nodes: wantState.length }, 'loading desired states failed; the poll will retry'),
    );
    // Both run; a failure of one must not leave the other's rejection unhandled, and a node's
    // desired state goes out before its tasks.
    const [claimResult] = await Promise.allSettled([claims, statesSent]);
    if (claimResult.status === 'rejected') {
      logger.warn({ err: claimResult.reason, nodes: wantTasks.length }, 'claiming tasks failed; the poll will retry');
      return;
    }
    const perNode = new Map<string, number>();
    const sessionOf = new Map(wantTasks.map((n) => [n.nodeId, n.sessionGeneration]));
    for (const { nodeId, task } of claimResult.value) {
      perNode.set(nodeId, (perNode.get(nodeId) ?? 0) + 1);
      // A task claimed for a session that has since ended (or a revoked node) is not sent: it stays
      // open for that old session, so the next session's flush claims and sends it again.
      if (!revoked.has(nodeId)) sendTo(nodeId, sessionOf.get(nodeId)!, { type: 'task', payload: deps.openTask ? deps.openTask(task) : task });
    }
    logger.debug({ nodes: here.length, states: wantState.length, tasks: claimResult.value.length }, 'dispatch batch');
    for (const [nodeId, n] of perNode) if (n >= CLAIM_PER_NODE) queue.add(nodeId, 'task');
  }

  function kick(): void {
    while (!stopped && running.size < MAX_BATCHES && queue.ready) {
      const batch = queue.take(MAX_BATCH_NODES);
      const p: Promise<void> = flush(batch)
        .catch((err: unknown) => logger.warn({ err }, 'dispatch failed; the poll will retry'))
        .finally(() => {
          running.delete(p);
          queue.done(batch.map(([id]) => id));
          kick();
        });
      running.add(p);
    }
  }

  /**
   * Wake-ups that arrive in one turn of the event loop (several NOTIFYs read at once, a burst of
   * sessions becoming ready) go out as one batch: the kick runs after the turn's I/O callbacks.
   */
  function schedule(nodeId: string, kind?: WorkKind): void {
    if (stopped) return;
    queue.add(nodeId, kind);
    if (kickScheduled) return;
    kickScheduled = true;
    setImmediate(() => {
      kickScheduled = false;
      kick();
    });
  }

  async function poll(): Promise<void> {
    if (sessions.connectedNodeIds().length > 0) {
      // Both reads go over what is pending everywhere (a few rows when dispatch keeps up, served
      // by a scan of 10,000 nodes or a partial index) and keep the nodes held here, rather than
      // sending every id held here: a 10,000-element array parameter cost 40–100 ms of database
      // time per read on the 2-core benchmark machine, every second, beside the dispatches.
      const stale = await db.raw<{ rows: Array<{ id: string; desired_generation: string }> }>(
        'select id, desired_generation from nodes where desired_generation > applied_generation and revoked_at is null',
      );
      for (const n of stale.rows) {
        const session = sessions.sessionGeneration(n.id);
        if (session === undefined) continue;
        const last = sent.get(n.id);
        if (!last || last.session !== session || Number(n.desired_generation) > last.generation) schedule(n.id, 'state');
      }
      const due = await db.raw<{ rows: Array<{ node_id: string }> }>(`select distinct node_id from tasks where state = 'queued' and next_attempt_at <= now()`);
      for (const t of due.rows) if (sessions.sessionGeneration(t.node_id) !== undefined) schedule(t.node_id, 'task');
    }
    await expireOverdue(db);
  }

  let polling = false;
  const timer = setInterval(() => {
    if (polling || stopped) return;
    polling = true;
    poll()
      .catch((err: unknown) => logger.warn({ err }, 'dispatch poll failed'))
      .finally(() => {
        polling = false;
      });
  }, deps.pollMs ?? 1_000);
  timer.unref();

  return {
    sessionReady(nodeId) {
      sent.delete(nodeId);
      schedule(nodeId);
    },
    sessionEnded(nodeId) {
      sent.delete(nodeId);
    },
    wake(nodeIds, kind) {
      for (const id of nodeIds) if (sessions.sessionGeneration(id) !== undefined) schedule(id, kind);
    },
    onAgentFrame(nodeId, frame) {
      switch (frame.type) {
        case 'desired-state-ack':
          replies.stateAck(nodeId, frame.payload.generation);
          return;
        case 'task-ack':
          replies.taskReply({ nodeId, type: 'task-ack', taskId: frame.payload.taskId });
          return;
        case 'task-progress':
          replies.taskReply({ nodeId, type: 'task-progress', taskId: frame.payload.taskId });
          return;
        case 'task-result':
          replies.taskReply({ nodeId, type: 'task-result', result: frame.payload });
          return;
        default:
          return;
      }
    },
    async idle() {
      for (;;) {
        if (running.size > 0) await Promise.all([...running]);
        else if (!stopped && (kickScheduled || queue.ready)) await new Promise<void>((resolve) => setImmediate(resolve));
        else break;
      }
      await replies.idle();
    },
    async stop() {
      stopped = true;
      withdrawDirect?.();
      clearInterval(timer);
      await Promise.all([...running]);
      await replies.idle();
    },
  };
}
