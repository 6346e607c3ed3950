import { z } from 'zod';
import { generationSchema } from '../scalars';

/**
 * agent → control plane, once a desired state is applied (every allocation started or stopped as
 * asked, routes and certificates written). Heartbeats repeat it as `appliedGeneration`, so a lost
 * ack costs one heartbeat interval, nothing more.
 */
export const desiredStateAckPayloadSchema = z.object({
  generation: generationSchema,
});

export type DesiredStateAckPayload = z.infer<typeof desiredStateAckPayloadSchema>;
