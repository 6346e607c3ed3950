import type { Logger } from 'pino';
import type { Frame, FrameToControlPlane } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { loadDesiredState } from './desired-state';
import type { WorkKind } from './node-wakeups';
import { claimForDispatch, expireOverdue, markAcknowledged, markRunning, recordResult } from './task-queue';

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
  /** resolves when every pending flush has run (tests, shutdown) */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Moves committed work onto sockets. Each node's flush is serialized (one at a time, coalescing
 * wake-ups that arrive meanwhile): send the full desired state if its generation is newer than
 * what this session already got, then claim and send due tasks. A poll every `pollMs` re-checks
 * every node held here, so a lost NOTIFY costs latency, never work.
 */
export function createDispatcher(deps: { db: Db; logger: Logger; sessions: SessionsHere; pollMs?: number }): Dispatcher {
  const { db, logger, sessions } = deps;
  const sentGeneration = new Map<string, number>();
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  // What each pending flush must look at: a task hint skips the desired-state read and a state
  // hint skips the task claim, which halves the statements per frame.
  const pending = new Map<string, { state: boolean; tasks: boolean }>();
  let stopped = false;

  async function flush(nodeId: string, work: { state: boolean; tasks: boolean }): Promise<void> {
    const session = sessions.sessionGeneration(nodeId);
    if (session === undefined) return;
    if (work.state) {
      const state = await loadDesiredState(db, nodeId, session);
      // No state means the node was revoked, perhaps through another control plane: its
      // socket here is closed at once rather than at its next token refresh.
      if (!state) {
        sessions.revoke(nodeId);
        return;
      }
      if (
        state.generation > (sentGeneration.get(nodeId) ?? -1) &&
        sessions.sessionGeneration(nodeId) === session &&
        sessions.send(nodeId, { type: 'desired-state', payload: state })
      ) {
        sentGeneration.set(nodeId, state.generation);
      }
    }
    if (!work.tasks) return;
    for (;;) {
      const tasks = await claimForDispatch(db, nodeId, session);
      logger.debug({ nodeId, session, tasks: tasks.length }, 'dispatch flush');
      for (const task of tasks) sessions.send(nodeId, { type: 'task', payload: task });
      if (tasks.length < 100) break;
    }
  }

  function schedule(nodeId: string, kind?: WorkKind): void {
    if (stopped) return;
    const want = pending.get(nodeId) ?? { state: false, tasks: false };
    want.state ||= kind !== 'task';
    want.tasks ||= kind !== 'state';
    pending.set(nodeId, want);
    if (running.has(nodeId)) {
      again.add(nodeId);
      return;
    }
    pending.delete(nodeId);
    const p = flush(nodeId, want)
      .catch((err: unknown) => logger.warn({ err, nodeId }, 'dispatch failed; the poll will retry'))
      .finally(() => {
        running.delete(nodeId);
        const next = pending.get(nodeId);
        if (again.delete(nodeId) && next) {
          pending.delete(nodeId);
          schedule(nodeId, next.state && next.tasks ? undefined : next.state ? 'state' : 'task');
        }
      });
    running.set(nodeId, p);
  }

  async function poll(): Promise<void> {
    const here = sessions.connectedNodeIds();
    if (here.length > 0) {
      const stale = await db('nodes').whereIn('id', here).whereRaw('desired_generation > applied_generation').select<Array<{ id: string; desired_generation: string }>>('id', 'desired_generation');
      for (const n of stale) if (Number(n.desired_generation) > (sentGeneration.get(n.id) ?? -1)) schedule(n.id, 'state');
      const due = await db('tasks')
        .whereIn('node_id', here)
        .where('state', 'queued')
        .where('next_attempt_at', '<=', db.fn.now())
        .distinct<Array<{ node_id: string }>>('node_id');
      for (const t of due) schedule(t.node_id, 'task');
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

  const ignoreErrors = (what: string, nodeId: string) => (err: unknown) => logger.warn({ err, nodeId }, `${what} failed`);

  return {
    sessionReady(nodeId) {
      sentGeneration.delete(nodeId);
      schedule(nodeId);
    },
    sessionEnded(nodeId) {
      sentGeneration.delete(nodeId);
    },
    wake(nodeIds, kind) {
      for (const id of nodeIds) if (sessions.sessionGeneration(id) !== undefined) schedule(id, kind);
    },
    onAgentFrame(nodeId, frame) {
      switch (frame.type) {
        case 'desired-state-ack':
          db('nodes')
            .where({ id: nodeId })
            .update({ applied_generation: db.raw('greatest(applied_generation, least(?, desired_generation))', [frame.payload.generation]) })
            .catch(ignoreErrors('desired-state ack', nodeId));
          return;
        case 'task-ack':
          markAcknowledged(db, nodeId, frame.payload.taskId).catch(ignoreErrors('task ack', nodeId));
          return;
        case 'task-progress':
          markRunning(db, nodeId, frame.payload.taskId).catch(ignoreErrors('task progress', nodeId));
          return;
        case 'task-result':
          recordResult(db, nodeId, frame.payload).catch(ignoreErrors('task result', nodeId));
          return;
        default:
          return;
      }
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()]);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...running.values()]);
    },
  };
}
