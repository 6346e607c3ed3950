import { z } from 'zod';
import { durationMsSchema, idSchema, sessionGenerationSchema } from '../scalars';

/** control plane → agent, the answer to hello. */
export const welcomePayloadSchema = z.object({
  nodeId: idSchema,
  /** Increases on every accepted hello of this node; tasks and desired states carry it (fencing). */
  sessionGeneration: sessionGenerationSchema,
  /** How often the agent sends heartbeats; the hub marks the node suspect after missing some. */
  heartbeatIntervalMs: durationMsSchema(1000, 3_600_000),
  serverProtocolVersion: z.string().min(1).max(32),
});

export type WelcomePayload = z.infer<typeof welcomePayloadSchema>;
