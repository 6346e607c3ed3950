import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from '../limits';
import {
  generationSchema,
  hostPortSchema,
  idSchema,
  isoTimeSchema,
  megabytesSchema,
  percentSchema,
  textSchema,
} from '../scalars';

/**
 * `crash-loop`: the container kept exiting (more than 3 restarts in 5 minutes); the agent stopped
 * restarting it, and the message says why (exit code, OOM flag, last log lines).
 */
export const ALLOCATION_STATES = ['starting', 'running', 'healthy', 'unhealthy', 'stopped', 'failed', 'exited', 'crash-loop'] as const;
export type AllocationState = (typeof ALLOCATION_STATES)[number];

/** Most allocations one heartbeat may report; far above what a node can run. */
export const MAX_ALLOCATIONS_PER_NODE = 1000;

export const nodeUsageSchema = z.object({
  cpuPercent: percentSchema,
  load1: z.number().min(0).max(1e6),
  load5: z.number().min(0).max(1e6),
  load15: z.number().min(0).max(1e6),
  memoryUsedMb: megabytesSchema,
  memoryTotalMb: megabytesSchema,
  diskUsedMb: megabytesSchema,
  diskTotalMb: megabytesSchema,
  /** Counters since boot, in bytes. */
  netRxBytes: z.int().min(0),
  netTxBytes: z.int().min(0),
  containerCount: z.int().min(0).max(100_000),
});

export type NodeUsage = z.infer<typeof nodeUsageSchema>;

/** What the agent observes for one allocation. */
export const allocationStatusSchema = z.object({
  allocationId: idSchema,
  state: z.enum(ALLOCATION_STATES),
  containerId: z
    .string()
    .regex(/^[a-f0-9]{12,64}$/, 'a Docker container id')
    .optional(),
  /** Where Traefik forwards to, once the container listens. */
  upstream: hostPortSchema.optional(),
  restarts: z.int().min(0),
  /** Docker's measure: 100 is one full core, so it may exceed 100 on a multi-core node. */
  cpuPercent: z.number().min(0).max(409_600).optional(),
  memoryMb: z.number().min(0).max(2 ** 30).optional(),
  /** The container's network counters since it started, in bytes. */
  netRxBytes: z.int().min(0).optional(),
  netTxBytes: z.int().min(0).optional(),
  startedAt: isoTimeSchema.optional(),
  message: textSchema(MAX_MESSAGE_CHARS).optional(),
});

export type AllocationStatus = z.infer<typeof allocationStatusSchema>;

/** agent → control plane, every heartbeatIntervalMs. */
export const heartbeatPayloadSchema = z.object({
  sentAt: isoTimeSchema,
  appliedGeneration: generationSchema,
  usage: nodeUsageSchema,
  allocations: z.array(allocationStatusSchema).max(MAX_ALLOCATIONS_PER_NODE),
});

export type HeartbeatPayload = z.infer<typeof heartbeatPayloadSchema>;
