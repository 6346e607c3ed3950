import { z } from 'zod';
import { PROTOCOL_ERROR_CODES } from '../errors';
import { MAX_MESSAGE_CHARS } from '../limits';
import { textSchema } from '../scalars';

/** What `ref` points at: a frame (its envelope `id`), a task, an allocation or a generation. */
export const ERROR_REF_TYPES = ['frame', 'task', 'allocation', 'generation'] as const;

/** Both ways. Messages are for people and logs; code them, never parse them. */
export const errorPayloadSchema = z
  .object({
    code: z.enum(PROTOCOL_ERROR_CODES),
    message: textSchema(MAX_MESSAGE_CHARS),
    recoverable: z.boolean(),
    refType: z.enum(ERROR_REF_TYPES).optional(),
    ref: z.string().min(1).max(128).optional(),
  })
  .refine((e) => (e.refType === undefined) === (e.ref === undefined), {
    message: 'refType and ref go together',
    path: ['ref'],
  });

export type ErrorPayload = z.infer<typeof errorPayloadSchema>;
