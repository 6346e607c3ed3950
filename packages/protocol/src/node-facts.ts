import { z } from 'zod';
import { megabytesSchema, textSchema } from './scalars';

/**
 * What an agent knows about its server (from systeminformation), sent at registration and in every
 * hello. Descriptive strings may be empty: a fact the OS does not report is not a reason to refuse
 * a node.
 */
export const nodeFactsSchema = z.object({
  hostname: z.string().min(1).max(253),
  cpu: z.object({
    cores: z.int().min(1).max(4096),
    model: textSchema(256),
  }),
  memoryMb: megabytesSchema,
  disk: z.object({
    totalMb: megabytesSchema,
    freeMb: megabytesSchema,
    /** The filesystem measured: Docker's data root. */
    path: z.string().min(1).max(1024),
  }),
  os: z.object({
    platform: textSchema(64),
    distro: textSchema(128),
    release: textSchema(128),
    kernel: textSchema(128),
    arch: textSchema(32),
  }),
  /** Docker engine version; null when no engine answers (the node then cannot run allocations). */
  dockerVersion: textSchema(64).nullable(),
});

export type NodeFacts = z.infer<typeof nodeFactsSchema>;
