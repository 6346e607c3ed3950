import { z } from 'zod';
import { MAX_LINE_CHARS, MAX_LINES_PER_FRAME } from '../limits';
import { idSchema } from '../scalars';

/** agent → control plane: output of a running task (a build log), in order by `seq`. */
export const taskProgressPayloadSchema = z.object({
  taskId: idSchema,
  /** From 0, +1 per frame of this task; the receiver drops repeats and sees gaps. */
  seq: z.int().min(0),
  /** The step now running (`clone`, `build`, `push`), when it changed. */
  phase: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a phase name')
    .optional(),
  lines: z.array(z.string().max(MAX_LINE_CHARS)).max(MAX_LINES_PER_FRAME),
});

export type TaskProgressPayload = z.infer<typeof taskProgressPayloadSchema>;
