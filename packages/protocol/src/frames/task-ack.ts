import { z } from 'zod';
import { idSchema } from '../scalars';

/**
 * agent → control plane, as soon as the task is journaled. `duplicate` is true when its
 * idempotency key was already journaled: the agent does not run it again, and sends the recorded
 * result (or keeps working on the first delivery).
 */
export const taskAckPayloadSchema = z.object({
  taskId: idSchema,
  duplicate: z.boolean(),
});

export type TaskAckPayload = z.infer<typeof taskAckPayloadSchema>;
