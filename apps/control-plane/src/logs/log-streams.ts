// Runtime logs of one allocation, pulled from the agent that runs it: a stream-logs task through
// the durable task queue, log-chunk frames back through the hub, credit as the consumer reads,
// task-cancel when the consumer goes away.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { LOG_STREAM_WINDOW_CHUNKS, idSchema, streamLogsTaskSpecSchema, type Frame, type FrameToControlPlane, type LogChunkPayload } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { enqueueTask } from '../dispatch/task-queue';
import { DomainError } from '../domain/errors';
import type { HubEvents } from '../hub/agent-hub';

export interface LogLine {
  allocationId: string;
  stream: 'stdout' | 'stderr';
  at: string;
  text: string;
}

export interface LogStreamRequest {
  nodeId: string;
  allocationId: string;
  tail: number;
  follow: boolean;
  since?: string;
}

export interface LogStreams {
  /**
   * Streams one allocation's runtime logs from the agent holding it; ends when the agent finishes
   * (no follow), the signal aborts (then the agent is told to stop), or the node is gone. Throws
   * VALIDATION_FAILED for a bad request and UNAVAILABLE when the node's socket is not held by this
   * process; while iterating, NOT_FOUND when the node has no container for the allocation.
   */
  open(request: LogStreamRequest, signal: AbortSignal): AsyncIterable<LogLine>;
}

/** What the streams need from the hub: is the node's session here, and a way to send to it. */
export interface LogSessions {
  sessionGeneration(nodeId: string): number | undefined;
  send(nodeId: string, frame: Frame): boolean;
}

export interface LogStreamsService extends LogStreams {
  /** log-chunk and task-result frames of this process's agent sessions */
  onAgentFrame(nodeId: string, frame: FrameToControlPlane): void;
  /** the node's session here ended: its streams end (the agent stops them on its side too) */
  sessionEnded(nodeId: string): void;
  /** streams open in this process */
  openCount(): number;
}

export interface LogStreamsDeps {
  db: Db;
  logger: Logger;
  sessions: LogSessions;
  /** deadline of a follow stream (the agent ends it then); default 1 h */
  followMs?: number;
  /** deadline of a stream without follow; default 2 min */
  onceMs?: number;
}

const requestSchema = streamLogsTaskSpecSchema.extend({ nodeId: idSchema });

type End = { kind: 'done' } | { kind: 'failed'; code: string; message: string } | { kind: 'node-gone' };

interface Stream {
  nodeId: string;
  allocationId: string;
  chunks: Map<number, LogChunkPayload>;
  next: number;
  end?: End;
  wake(): void;
}

/**
 * Chunks are yielded line by line in `seq` order; a chunk is credited once its last line was
 * taken, so the agent never has more than LOG_STREAM_WINDOW_CHUNKS chunks in flight and a slow
 * consumer slows the container's stream instead of growing memory here or on the agent. An agent
 * that sends far past its window is cut off.
 */
export function createLogStreams(deps: LogStreamsDeps): LogStreamsService {
  const { db, logger, sessions } = deps;
  const streams = new Map<string, Stream>();

  const finish = (s: Stream, end: End) => {
    s.end ??= end;
    s.wake();
  };

  // Ends the row so neither a failure retry nor a reconnect redelivers a stream nobody reads.
  // The agent's late result then changes nothing (results apply only to open tasks).
  const closeTaskRow = (taskId: string) =>
    db('tasks')
      .where({ id: taskId })
      .whereIn('state', ['queued', 'dispatched', 'acknowledged', 'running'])
      .update({ state: 'cancelled', finished_at: db.fn.now(), updated_at: db.fn.now() })
      .catch((err: unknown) => logger.warn({ err, taskId }, 'cannot close a log stream task'));

  async function* iterate(req: z.infer<typeof requestSchema>, signal: AbortSignal): AsyncGenerator<LogLine> {
    if (signal.aborted) return;
    let wakeUp: (() => void) | undefined;
    const stream: Stream = {
      nodeId: req.nodeId,
      allocationId: req.allocationId,
      chunks: new Map(),
      next: 0,
      wake: () => {
        const w = wakeUp;
        wakeUp = undefined;
        w?.();
      },
    };
    const registered: { taskId?: string } = {};
    let cancelled = false;
    // The consumer went away (abort, or it stopped iterating): the agent stops reading. Done on
    // the abort itself too, since a consumer may abort and never touch the iterator again.
    const cancel = () => {
      const taskId = registered.taskId;
      if (cancelled || taskId === undefined || stream.end) return;
      cancelled = true;
      streams.delete(taskId);
      sessions.send(req.nodeId, { type: 'task-cancel', payload: { taskId } });
      void closeTaskRow(taskId);
    };
    const onAbort = () => {
      stream.wake();
      cancel();
    };
    signal.addEventListener('abort', onAbort);
    const { nodeId, ...spec } = req;
    // Registered before the commit: the NOTIFY that lets a dispatcher send the task is delivered
    // at commit, so no chunk can arrive for an id not yet known here.
    let id: string;
    try {
      id = await db.transaction(async (trx) => {
        const created = await enqueueTask(trx, {
          nodeId,
          kind: 'stream-logs',
          payload: spec,
          idempotencyKey: `logs:${randomUUID()}`,
          deadline: new Date(Date.now() + (req.follow ? (deps.followMs ?? 3_600_000) : (deps.onceMs ?? 120_000))),
        });
        streams.set(created.id, stream);
        return created.id;
      });
    } catch (e) {
      // A failed commit leaves no task, so nothing to cancel: only forget the registration.
      for (const [k, v] of streams) if (v === stream) streams.delete(k);
      signal.removeEventListener('abort', onAbort);
      throw e;
    }
    registered.taskId = id;
    try {
      for (;;) {
        if (signal.aborted) return;
        const chunk = stream.chunks.get(stream.next);
        if (chunk) {
          stream.chunks.delete(stream.next);
          for (const line of chunk.lines) {
            yield { allocationId: req.allocationId, stream: chunk.stream, at: line.at, text: line.text };
            if (signal.aborted) return;
          }
          stream.next += 1;
          sessions.send(nodeId, { type: 'log-credit', payload: { taskId: id, upToSeq: chunk.seq } });
          continue;
        }
        const end = stream.end;
        if (end?.kind === 'done' || end?.kind === 'node-gone') return;
        if (end?.kind === 'failed') throw new DomainError(end.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'UNAVAILABLE', `logs of ${req.allocationId}: ${end.message}`);
        await new Promise<void>((resolve) => (wakeUp = resolve));
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!stream.end) cancel();
      streams.delete(id);
      if (stream.end && stream.end.kind !== 'done') await closeTaskRow(id);
    }
  }

  return {
    open(request, signal) {
      const parsed = requestSchema.safeParse(request);
      if (!parsed.success) throw DomainError.validation(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      if (sessions.sessionGeneration(parsed.data.nodeId) === undefined) {
        throw new DomainError('UNAVAILABLE', 'the node running this allocation is not connected to this control plane', { nodeId: parsed.data.nodeId });
      }
      return iterate(parsed.data, signal);
    },
    onAgentFrame(nodeId, frame) {
      if (frame.type === 'log-chunk') {
        const chunk = frame.payload;
        const s = chunk.taskId === undefined ? undefined : streams.get(chunk.taskId);
        // Only the node the task went to may feed its stream, and only for the allocation asked.
        if (!s || s.nodeId !== nodeId || s.allocationId !== chunk.allocationId || s.end || chunk.seq < s.next || s.chunks.has(chunk.seq)) return;
        if (chunk.seq >= s.next + LOG_STREAM_WINDOW_CHUNKS * 2) {
          logger.warn({ nodeId, taskId: chunk.taskId, seq: chunk.seq, next: s.next }, 'agent ignored log credit; stream cut off');
          finish(s, { kind: 'failed', code: 'PROTOCOL', message: 'the agent sent past its credit window' });
          sessions.send(nodeId, { type: 'task-cancel', payload: { taskId: chunk.taskId! } });
          return;
        }
        s.chunks.set(chunk.seq, chunk);
        if (chunk.seq === s.next) s.wake();
        return;
      }
      if (frame.type === 'task-result') {
        const s = streams.get(frame.payload.taskId);
        if (!s || s.nodeId !== nodeId) return;
        finish(s, frame.payload.status === 'succeeded' ? { kind: 'done' } : { kind: 'failed', code: frame.payload.error.code, message: frame.payload.error.message });
      }
    },
    sessionEnded(nodeId) {
      for (const [taskId, s] of streams) {
        if (s.nodeId !== nodeId) continue;
        finish(s, { kind: 'node-gone' });
        // At once, not when the consumer next pulls: a reconnect must not redeliver the task.
        void closeTaskRow(taskId);
      }
    },
    openCount: () => streams.size,
  };
}

/** The hub's events for the dispatcher, with log chunks and results also given to the streams. */
export function withLogStreams(events: HubEvents, logs: Pick<LogStreamsService, 'onAgentFrame' | 'sessionEnded'>): HubEvents {
  return {
    sessionReady: (nodeId) => events.sessionReady(nodeId),
    sessionEnded(nodeId) {
      events.sessionEnded(nodeId);
      logs.sessionEnded(nodeId);
    },
    onAgentFrame(nodeId, frame) {
      if (frame.type !== 'log-chunk') events.onAgentFrame(nodeId, frame);
      if (frame.type === 'log-chunk' || frame.type === 'task-result') logs.onAgentFrame(nodeId, frame);
    },
  };
}
