import { z } from 'zod';
import { nodeFactsSchema } from '../node-facts';
import { generationSchema } from '../scalars';

/**
 * agent → control plane, first frame of every session. `protocolVersion` is any short string here
 * so that a hello from another major still parses far enough to be answered with
 * PROTOCOL_VERSION_UNSUPPORTED (parseFrame checks it before the rest of the payload).
 */
export const helloPayloadSchema = z.object({
  protocolVersion: z.string().min(1).max(32),
  agentVersion: z.string().min(1).max(64),
  facts: nodeFactsSchema,
  /** The last desired-state generation the agent applied (0: none), so the hub can skip a resend. */
  appliedGeneration: generationSchema,
});

export type HelloPayload = z.infer<typeof helloPayloadSchema>;
