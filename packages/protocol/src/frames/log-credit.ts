import { z } from 'zod';
import { idSchema } from '../scalars';

/**
 * control plane → agent: the consumer of a stream-logs task has taken every log-chunk up to and
 * including `upToSeq`. The agent keeps at most a window of chunks beyond the last credit in
 * flight, so a slow reader slows the container's log stream instead of growing anyone's memory.
 * Credits only grow: a lower `upToSeq` than one already received changes nothing.
 */
export const logCreditPayloadSchema = z.object({
  taskId: idSchema,
  upToSeq: z.int().min(0),
});

export type LogCreditPayload = z.infer<typeof logCreditPayloadSchema>;
