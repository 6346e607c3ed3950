import type { Task } from '@karvon/protocol';
import type { TaskHandler } from './task-runner';

/** Answers after an optional delay; exists to prove dispatch, acks, redelivery and deadlines. */
export const noopTask: TaskHandler = async (task, ctx) => {
  const spec = (task as Extract<Task, { kind: 'noop' }>).payload;
  if (spec.durationMs) {
    ctx.progress([`holding for ${spec.durationMs} ms`]);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, spec.durationMs);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  return { echo: spec.echo ?? null };
};
