import type { Logger } from 'pino';
import type { Frame, Task, TaskResultPayload } from '@karvon/protocol';
import type { JournalEntry, TaskJournal } from './task-journal';

/** What a kind of task does; returns the result JSON or throws a TaskFailure. */
export type TaskHandler = (task: Task, ctx: { progress(lines: string[]): void; signal: AbortSignal }) => Promise<unknown>;

export class TaskFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs tasks exactly once in effect per idempotency key: journal first, ack, work, journal the
 * result, send it. A repeat of a finished task is answered from the journal; a repeat of one in
 * progress in this process is acknowledged as a duplicate and left to finish.
 */
export function createTaskRunner(deps: { journal: TaskJournal; handlers: Partial<Record<Task['kind'], TaskHandler>>; logger: Logger; send(frame: Frame): void }) {
  const inProgress = new Set<string>();
  const controller = new AbortController();
  // Per task id, so a task-cancel stops one task; the agent-wide controller stops them all.
  const running = new Map<string, AbortController>();

  async function run(task: Task): Promise<void> {
    const key = task.idempotencyKey;
    if (inProgress.has(key)) {
      deps.send({ type: 'task-ack', payload: { taskId: task.id, duplicate: true } });
      return;
    }
    const entry = await deps.journal.get(key);
    if (entry?.status === 'finished' && entry.result) {
      deps.send({ type: 'task-ack', payload: { taskId: task.id, duplicate: true } });
      deps.send({ type: 'task-result', payload: { ...entry.result, taskId: task.id } });
      return;
    }
    inProgress.add(key);
    try {
      // Started by an agent that died before finishing: the handler runs again (handlers are
      // idempotent by key); the journal counts executions so tests and operators can see it.
      const started: JournalEntry = {
        taskId: task.id,
        idempotencyKey: key,
        kind: task.kind,
        status: 'started',
        executions: (entry?.executions ?? 0) + 1,
        startedAt: new Date().toISOString(),
      };
      await deps.journal.put(started);
      deps.send({ type: 'task-ack', payload: { taskId: task.id, duplicate: false } });
      let seq = 0;
      const progress = (lines: string[]) => deps.send({ type: 'task-progress', payload: { taskId: task.id, seq: seq++, lines } });
      let result: TaskResultPayload;
      const handler = deps.handlers[task.kind];
      const own = new AbortController();
      running.set(task.id, own);
      try {
        if (!handler) throw new TaskFailure('UNSUPPORTED_TASK', `this agent does not run ${task.kind} tasks`);
        const value = await handler(task, { progress, signal: AbortSignal.any([controller.signal, own.signal]) });
        result = { taskId: task.id, status: 'succeeded', result: (value ?? null) as never };
      } catch (e) {
        const code = e instanceof TaskFailure ? e.code : 'TASK_FAILED';
        result = { taskId: task.id, status: 'failed', error: { code, message: (e as Error).message.slice(0, 2000) } };
      } finally {
        running.delete(task.id);
      }
      // This run is the only one of its key (inProgress), so the entry is the one it wrote.
      await deps.journal.put({ ...started, status: 'finished', result });
      deps.send({ type: 'task-result', payload: result });
    } finally {
      inProgress.delete(key);
    }
  }

  return {
    handle(task: Task): void {
      run(task).catch((err: unknown) => deps.logger.error({ err, taskId: task.id }, 'task journal failed'));
    },
    /**
     * task-cancel: aborts the task's signal with the reason `cancelled`; the handler ends and the
     * result is journaled and sent as usual. An unknown or finished task is ignored.
     */
    cancel(taskId: string): boolean {
      const c = running.get(taskId);
      c?.abort('cancelled');
      return c !== undefined;
    },
    stop(): void {
      controller.abort('agent-stopping');
    },
  };
}
