import { z } from 'zod';
import { MAX_MESSAGE_CHARS, MAX_TASK_RESULT_CHARS } from '../limits';
import { codeSchema, idSchema, textSchema } from '../scalars';

/** Any JSON value (finite numbers only), at most MAX_TASK_RESULT_CHARS once serialized. */
export const taskResultValueSchema = z
  .json()
  .refine((v) => JSON.stringify(v).length <= MAX_TASK_RESULT_CHARS, `at most ${MAX_TASK_RESULT_CHARS} characters of JSON`);

export const taskErrorSchema = z.object({
  /** The task's own codes (BUILD_FAILED, CLONE_FAILED, DEADLINE_EXCEEDED…), not protocol codes. */
  code: codeSchema,
  message: textSchema(MAX_MESSAGE_CHARS),
});

export type TaskError = z.infer<typeof taskErrorSchema>;

/** agent → control plane, once per task (repeated on redelivery of an already finished task). */
export const taskResultPayloadSchema = z.discriminatedUnion('status', [
  z.object({ taskId: idSchema, status: z.literal('succeeded'), result: taskResultValueSchema }),
  z.object({ taskId: idSchema, status: z.literal('failed'), error: taskErrorSchema }),
]);

export type TaskResultPayload = z.infer<typeof taskResultPayloadSchema>;
