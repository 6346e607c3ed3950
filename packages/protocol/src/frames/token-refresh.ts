import { z } from 'zod';
import { isoTimeSchema } from '../scalars';

// Two frame types rather than one with an optional token: each has one direction and one shape, so
// the direction check refuses a token sent by an agent, and neither side has to branch on a field.

/** agent → control plane: "my token expires soon, send a new one". */
export const tokenRefreshRequestPayloadSchema = z.object({});

/** control plane → agent: a fresh short-lived agent JWT for the next reconnect. */
export const tokenRefreshPayloadSchema = z.object({
  token: z
    .string()
    .max(8192)
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'a compact JWT'),
  expiresAt: isoTimeSchema,
});

export type TokenRefreshRequestPayload = z.infer<typeof tokenRefreshRequestPayloadSchema>;
export type TokenRefreshPayload = z.infer<typeof tokenRefreshPayloadSchema>;
