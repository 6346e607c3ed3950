import { z } from 'zod';
import { MAX_ALLOCATIONS_PER_NODE } from './heartbeat';
import {
  dnsNameSchema,
  durationMsSchema,
  generationSchema,
  hostPortSchema,
  idSchema,
  imageRefSchema,
  isoTimeSchema,
  noNulStringSchema,
  portSchema,
  sessionGenerationSchema,
} from '../scalars';

export const MAX_ENV_VARS = 256;
export const MAX_ROUTES_PER_NODE = 10_000;
export const MAX_UPSTREAMS_PER_ROUTE = 100;
export const MAX_CERTIFICATES_PER_NODE = 10_000;

/** POSIX-style names; the value may hold newlines (PEM files in env are common) but never NUL. */
export const envSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'an environment variable name'), noNulStringSchema(32 * 1024))
  .refine((env) => Object.keys(env).length <= MAX_ENV_VARS, `at most ${MAX_ENV_VARS} variables`);

export const resourceLimitsSchema = z.object({
  cpuMillicores: z.int().min(1).max(4_096_000),
  memoryMb: z.int().min(4).max(2 ** 30),
  pids: z.int().min(1).max(1_000_000).optional(),
});

export type ResourceLimits = z.infer<typeof resourceLimitsSchema>;

const probeTiming = {
  intervalMs: durationMsSchema(100, 3_600_000).optional(),
  timeoutMs: durationMsSchema(100, 600_000).optional(),
};

/** Checked by the agent from outside the container, against the allocation's port. */
export const healthCheckSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('http'),
    path: z.string().regex(/^\/[\x21-\x7e]{0,1023}$/, 'an absolute URL path without spaces'),
    ...probeTiming,
  }),
  z.object({ type: z.literal('tcp'), ...probeTiming }),
]);

export type HealthCheck = z.infer<typeof healthCheckSchema>;

export const DESIRED_STATUSES = ['running', 'stopped'] as const;

export const desiredAllocationSchema = z.object({
  id: idSchema,
  appId: idSchema,
  tenantId: idSchema,
  releaseId: idSchema,
  releaseNumber: z.int().min(1),
  image: imageRefSchema,
  env: envSchema,
  /** argv, never a shell string; absent: the image's own command. */
  command: z.array(noNulStringSchema(4096)).min(1).max(64).optional(),
  /** The port the app listens on inside the container. */
  port: portSchema,
  limits: resourceLimitsSchema,
  healthCheck: healthCheckSchema,
  desiredStatus: z.enum(DESIRED_STATUSES),
});

export type DesiredAllocation = z.infer<typeof desiredAllocationSchema>;

export const routeSchema = z.object({
  hostname: dnsNameSchema,
  appId: idSchema,
  tls: z.boolean(),
  /** May be empty: the route then answers 503 rather than disappearing (and falling to another). */
  upstreams: z
    .array(
      z.object({
        address: hostPortSchema,
        /** True when the upstream runs on this node (Traefik may prefer it). */
        local: z.boolean(),
      }),
    )
    .max(MAX_UPSTREAMS_PER_ROUTE),
});

export type Route = z.infer<typeof routeSchema>;

/**
 * A certificate for one or more hostnames. Whether the key travels as ciphertext is a later
 * decision; either way it is a string here.
 */
export const certificateSchema = z.object({
  id: idSchema,
  hostnames: z.array(dnsNameSchema).min(1).max(100),
  certificatePem: z.string().min(1).max(64 * 1024),
  privateKeyPem: z.string().min(1).max(16 * 1024),
  notAfter: isoTimeSchema,
});

export type Certificate = z.infer<typeof certificateSchema>;

/**
 * control plane → agent: the complete snapshot of what the node should run and serve (never a
 * patch), sent on every connect and whenever the generation changes. The agent converges on it.
 */
export const desiredStatePayloadSchema = z.object({
  generation: generationSchema,
  sessionGeneration: sessionGenerationSchema,
  allocations: z.array(desiredAllocationSchema).max(MAX_ALLOCATIONS_PER_NODE),
  routes: z.array(routeSchema).max(MAX_ROUTES_PER_NODE),
  certificates: z.array(certificateSchema).max(MAX_CERTIFICATES_PER_NODE),
});

export type DesiredStatePayload = z.infer<typeof desiredStatePayloadSchema>;
