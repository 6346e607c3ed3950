import { z } from 'zod';
import { idSchema } from '../scalars';

/**
 * control plane → agent: stop this task (its consumer went away). The agent stops the work and
 * finishes the task with its normal task-result; a task it does not know, or one already
 * finished, is ignored (a cancel may cross the result on the wire).
 */
export const taskCancelPayloadSchema = z.object({
  taskId: idSchema,
});

export type TaskCancelPayload = z.infer<typeof taskCancelPayloadSchema>;
