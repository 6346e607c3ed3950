// Build output arrives as task-progress frames on whichever control plane holds the builder's
// socket. It is appended to the build's row (the end kept, MAX_BUILD_LOG_CHARS), batched a few
// times a second, so every control plane can serve `GET /deploys/:id/logs` and follow it.
import type { Logger } from 'pino';
import type { FrameToControlPlane } from '@karvon/protocol';
import type { Db } from '../db/connect';
import type { HubEvents } from '../hub/agent-hub';
import { MAX_BUILD_LOG_CHARS } from './build-row';

export interface BuildLogWriter {
  onAgentFrame(nodeId: string, frame: FrameToControlPlane): void;
  flush(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export function createBuildLogWriter(deps: { db: Db; logger: Logger; flushMs?: number }): BuildLogWriter {
  const pending = new Map<string, string[]>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const batch = [...pending.entries()].map(([taskId, lines]) => ({ task_id: taskId, text: lines.join('\n') + '\n' }));
    pending.clear();
    // Only build tasks have a build row: progress of any other task matches nothing here.
    await deps.db.raw(
      `update builds b set log = right(b.log || x.text, ?)
       from json_to_recordset(?::json) as x(task_id text, text text)
       join tasks t on t.id = x.task_id and t.kind = 'build'
       where b.id = t.payload->>'buildId'`,
      [MAX_BUILD_LOG_CHARS, JSON.stringify(batch)],
    );
  }

  const flush = () => (flushing = flushing.then(write).catch((err: unknown) => deps.logger.warn({ err }, 'build log flush failed')));

  return {
    onAgentFrame(_nodeId, frame) {
      if (frame.type !== 'task-progress' || frame.payload.lines.length === 0) return;
      const list = pending.get(frame.payload.taskId);
      if (list) list.push(...frame.payload.lines);
      else pending.set(frame.payload.taskId, [...frame.payload.lines]);
    },
    flush,
    start() {
      timer = setInterval(() => void flush(), deps.flushMs ?? 250);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await flush();
    },
  };
}

/** The hub's events with build progress also given to the writer. */
export function withBuildLogs(events: HubEvents, writer: Pick<BuildLogWriter, 'onAgentFrame'>): HubEvents {
  return {
    sessionReady: (nodeId) => events.sessionReady(nodeId),
    sessionEnded: (nodeId) => events.sessionEnded(nodeId),
    onAgentFrame(nodeId, frame) {
      events.onAgentFrame(nodeId, frame);
      writer.onAgentFrame(nodeId, frame);
    },
  };
}
