// The stream-logs task: one allocation's container logs as log-chunk frames, with backpressure
// both ways. Reading from Docker stops (and TCP pushes back on dockerd) whenever a batch cannot be
// sent: the window of un-credited chunks is full (a slow reader at the control plane), the socket
// has too much unsent data, or the agent-wide frame rate is used up.
import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { LOG_STREAM_WINDOW_CHUNKS, type Frame, type Task } from '@karvon/protocol';
import { LABELS, isOwned, ownedFilter } from '../runtime/labels';
import { TaskFailure, type TaskHandler } from '../tasks/task-runner';
import { DockerLogDecoder } from './docker-log-decoder';
import { CreditWindow, FramePacer, LogBatcher } from './log-batcher';

export type StreamEnd = 'eof' | 'cancelled' | 'deadline' | 'stalled' | 'session-lost' | 'agent-stopping';

export interface StreamLogsResult {
  ended: StreamEnd;
  chunks: number;
  lines: number;
  /** the most chunks ever sent beyond the last credit (never above the window) */
  maxInFlight: number;
}

export interface LogStreamerDeps {
  docker: Docker;
  nodeId: string;
  logger: Logger;
  send(frame: Frame): void;
  /** bytes queued on the socket and not yet written */
  bufferedAmount(): number;
  window?: number;
  lingerMs?: number;
  /** a full window with no credit for this long ends the stream (a reader gone without a cancel) */
  stallMs?: number;
  /** socket bytes above which no chunk is sent */
  highWaterBytes?: number;
  framesPerSecond?: number;
  now?: () => number;
}

interface Active {
  window: CreditWindow;
  onCredit(): void;
  stop(reason: StreamEnd): void;
}

/** The allocation's container, found only by this node's Karvon labels; the live one if several. */
export async function findAllocationContainer(docker: Docker, nodeId: string, allocationId: string): Promise<string | undefined> {
  const list = await docker.listContainers({ all: true, filters: { label: [...ownedFilter(nodeId), `${LABELS.allocation}=${allocationId}`] } });
  const mine = list.filter((c) => isOwned(c.Labels, nodeId) && c.Labels[LABELS.allocation] === allocationId);
  mine.sort((a, b) => Number(b.State === 'running') - Number(a.State === 'running') || b.Created - a.Created);
  return mine[0]?.Id;
}

function openLogStream(docker: Docker, containerId: string, spec: Task<'stream-logs'>['payload'], signal: AbortSignal): Promise<IncomingMessage> {
  // dockerode buffers the whole answer when follow is false; the modem streams it either way.
  const options: Record<string, unknown> = { stdout: true, stderr: true, timestamps: true, follow: spec.follow, tail: spec.tail };
  if (spec.since) options.since = Date.parse(spec.since) / 1000;
  return new Promise((resolve, reject) => {
    (docker.modem as { dial(o: unknown, cb: (err: Error | null, res: IncomingMessage) => void): void }).dial(
      {
        path: `/containers/${encodeURIComponent(containerId)}/logs?`,
        method: 'GET',
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        options,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

export function createLogStreamer(deps: LogStreamerDeps) {
  const now = deps.now ?? Date.now;
  const windowSize = deps.window ?? LOG_STREAM_WINDOW_CHUNKS;
  const lingerMs = deps.lingerMs ?? 100;
  const stallMs = deps.stallMs ?? 60_000;
  const highWater = deps.highWaterBytes ?? 1024 * 1024;
  const pacer = new FramePacer(deps.framesPerSecond ?? 10, 20, now());
  const active = new Map<string, Active>();

  const handler: TaskHandler = async (task, ctx) => {
    const t = task as Task<'stream-logs'>;
    const spec = t.payload;
    const containerId = await findAllocationContainer(deps.docker, deps.nodeId, spec.allocationId);
    if (!containerId) throw new TaskFailure('NOT_FOUND', `no container of allocation ${spec.allocationId} on this node`);

    const local = new AbortController();
    const signal = AbortSignal.any([ctx.signal, local.signal]);
    const reason = (): StreamEnd => {
      const r: unknown = signal.reason;
      return r === 'cancelled' || r === 'deadline' || r === 'stalled' || r === 'session-lost' || r === 'agent-stopping' ? r : 'cancelled';
    };
    const deadline = setTimeout(() => local.abort('deadline'), Math.max(0, Date.parse(t.deadline) - Date.now()));
    const window = new CreditWindow(windowSize);
    const batcher = new LogBatcher({ lingerMs });
    const decoder = new DockerLogDecoder();
    let lines = 0;
    let lastProgress = now();
    let wakeUp: (() => void) | undefined;
    const wake = () => {
      const w = wakeUp;
      wakeUp = undefined;
      w?.();
    };

    /** Sends closed batches while every bound allows; true once none is left. */
    const trySend = (): boolean => {
      while (batcher.closedCount > 0) {
        if (signal.aborted || !window.canSend() || deps.bufferedAmount() > highWater || !pacer.ready(now())) return false;
        const batch = batcher.take()!;
        const seq = window.take();
        pacer.take(now());
        lastProgress = now();
        lines += batch.lines.length;
        deps.send({ type: 'log-chunk', payload: { allocationId: spec.allocationId, taskId: t.id, stream: batch.stream, seq, lines: batch.lines } });
      }
      return true;
    };

    /** Waits until every closed batch is sent (reading from Docker is paused meanwhile). */
    const drain = async (): Promise<void> => {
      while (!signal.aborted && !trySend()) {
        if (!window.canSend() && now() - lastProgress > stallMs) {
          local.abort('stalled');
          return;
        }
        const ms = window.canSend() ? Math.max(5, pacer.waitMs(now())) : 200;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    };

    let stream: IncomingMessage;
    try {
      stream = await openLogStream(deps.docker, containerId, spec, signal);
    } catch (e) {
      clearTimeout(deadline);
      if (signal.aborted) return { ended: reason(), chunks: 0, lines: 0, maxInFlight: 0 } satisfies StreamLogsResult;
      const status = (e as { statusCode?: number }).statusCode;
      throw new TaskFailure(status === 404 ? 'NOT_FOUND' : 'DOCKER_ERROR', `container logs: ${(e as Error).message}`);
    }
    const stopStream = () => {
      stream.destroy();
      wake();
    };
    signal.addEventListener('abort', stopStream, { once: true });
    active.set(t.id, {
      window,
      onCredit: () => {
        lastProgress = now();
        trySend();
        wake();
      },
      stop: (why) => local.abort(why),
    });
    // Open batches close after the linger time even when no more output comes.
    const linger = setInterval(() => {
      batcher.closeDue(now());
      trySend();
    }, Math.max(10, Math.floor(lingerMs / 2)));
    try {
      try {
        for await (const data of stream) {
          const at = now();
          for (const line of decoder.push(data as Buffer)) batcher.add(line, at);
          batcher.closeDue(at);
          if (batcher.closedCount > 0) await drain();
          if (signal.aborted) break;
        }
      } catch (e) {
        if (!signal.aborted) throw new TaskFailure('DOCKER_ERROR', `container logs: ${(e as Error).message}`);
      }
      if (!signal.aborted) {
        const at = now();
        for (const line of decoder.end()) batcher.add(line, at);
        batcher.closeDue(at, true);
        await drain();
      }
      const result: StreamLogsResult = { ended: signal.aborted ? reason() : 'eof', chunks: window.sent, lines, maxInFlight: window.maxInFlight };
      deps.logger.info({ taskId: t.id, allocationId: spec.allocationId, ...result }, 'log stream ended');
      return result;
    } finally {
      clearInterval(linger);
      clearTimeout(deadline);
      signal.removeEventListener('abort', stopStream);
      stream.destroy();
      active.delete(t.id);
    }
  };

  return {
    handler,
    /** log-credit from the control plane; unknown task ids (finished streams) are ignored */
    credit(taskId: string, upToSeq: number): void {
      const a = active.get(taskId);
      if (a?.window.credit(upToSeq)) a.onCredit();
    },
    /** the session ended: credits can no longer arrive, so every stream stops */
    stopAll(reason: StreamEnd): void {
      for (const a of active.values()) a.stop(reason);
    },
    activeCount: () => active.size,
  };
}

export type LogStreamer = ReturnType<typeof createLogStreamer>;
