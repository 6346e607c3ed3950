import { z } from 'zod';
import { MAX_LINE_CHARS, MAX_LINES_PER_FRAME } from '../limits';
import { idSchema, isoTimeSchema } from '../scalars';

/**
 * agent → control plane: container output. `allocationId` names the container; `taskId` names the
 * stream-logs task that asked for it (both are set then), or a task whose own output this is.
 */
export const logChunkPayloadSchema = z
  .object({
    allocationId: idSchema.optional(),
    taskId: idSchema.optional(),
    stream: z.enum(['stdout', 'stderr']),
    /** From 0, +1 per chunk of one (allocationId, taskId) stream. */
    seq: z.int().min(0),
    lines: z
      .array(z.object({ at: isoTimeSchema, text: z.string().max(MAX_LINE_CHARS) }))
      .min(1)
      .max(MAX_LINES_PER_FRAME),
  })
  .refine((c) => c.allocationId !== undefined || c.taskId !== undefined, {
    message: 'allocationId or taskId is required',
    path: ['allocationId'],
  });

export type LogChunkPayload = z.infer<typeof logChunkPayloadSchema>;
