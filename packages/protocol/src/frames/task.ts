import { z } from 'zod';
import { envSchema } from './desired-state';
import {
  dnsNameSchema,
  durationMsSchema,
  hostPortSchema,
  idSchema,
  imageRefSchema,
  isoTimeSchema,
  sessionGenerationSchema,
  textSchema,
} from '../scalars';

// Only the transport-level shape of git input is checked here (scheme, no whitespace, never an
// option); the agent's git module applies the full rules (allowed hosts, check-ref-format).
const gitUrlSchema = z
  .string()
  .max(2048)
  .regex(
    /^(?:(?:https|ssh):\/\/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$/,
    'an https://, ssh:// or user@host:path git URL',
  );

export const buildTaskSpecSchema = z.object({
  buildId: idSchema,
  appId: idSchema,
  tenantId: idSchema,
  source: z.object({
    url: gitUrlSchema,
    /**
     * The exact commit to build; a branch only names where it came from. Absent (a manual deploy
     * of a branch head): the agent builds the branch's head and reports the SHA it resolved.
     */
    commitSha: z
      .string()
      .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'a full commit SHA')
      .optional(),
    branch: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9._/-]{0,254}$/, 'a branch name')
      .optional(),
    /**
     * A private repository's credential: an https token, or the app's ssh deploy key with the host
     * keys learned so far. Sealed at rest in the control plane's task row; opened only into the frame.
     */
    auth: z
      .discriminatedUnion('type', [
        z.object({
          type: z.literal('token'),
          username: z.string().regex(/^[A-Za-z0-9._@+-]{1,128}$/, 'a git username'),
          token: z.string().regex(/^[\x21-\x7e]{1,8192}$/, 'printable ASCII without spaces'),
        }),
        z.object({
          type: z.literal('ssh-key'),
          privateKey: z.string().min(1).max(16_384),
          knownHosts: z.string().max(65_536),
        }),
      ])
      .optional(),
  }),
  strategy: z.enum(['auto', 'dockerfile', 'buildpack']),
  /** From the runtime catalog; buildpack builds start from `baseImage`. */
  runtime: z
    .object({
      kind: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a runtime kind'),
      version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'a runtime version'),
      baseImage: imageRefSchema,
    })
    .optional(),
  /** The reference to tag the result with. */
  image: imageRefSchema,
  /** The region registry to push to; null keeps the image on this node. */
  registry: hostPortSchema.nullable(),
  env: envSchema.optional(),
  limits: z.object({
    cpuMillicores: z.int().min(1).max(4_096_000),
    memoryMb: z.int().min(64).max(2 ** 30),
    timeoutMs: durationMsSchema(1000, 6 * 3_600_000),
  }),
});

/** Installs (or removes) an ACME HTTP-01 challenge response on this node. */
export const issueChallengeTaskSpecSchema = z.object({
  hostname: dnsNameSchema,
  token: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'an ACME token (base64url)'),
  keyAuthorization: z.string().regex(/^[A-Za-z0-9_.-]{1,512}$/, 'an ACME key authorization'),
  action: z.enum(['install', 'remove']),
});

/** Streams an allocation's logs as log-chunk frames carrying this task's id, until the deadline. */
export const streamLogsTaskSpecSchema = z.object({
  allocationId: idSchema,
  tail: z.int().min(0).max(10_000),
  follow: z.boolean(),
  since: isoTimeSchema.optional(),
});

export const GC_TARGETS = ['images', 'containers', 'build-cache'] as const;

export const gcTaskSpecSchema = z.object({
  targets: z.array(z.enum(GC_TARGETS)).min(1).max(GC_TARGETS.length),
  /** Images of this many most recent releases per app are kept (rollback needs them). */
  keepReleasesPerApp: z.int().min(0).max(100),
});

/** Does nothing but answer: exists to test dispatch, acks, redelivery and deadlines end to end. */
export const noopTaskSpecSchema = z.object({
  echo: textSchema(1024).optional(),
  /** Hold the task this long before the result, to test a kill in the middle of a task. */
  durationMs: durationMsSchema(0, 600_000).optional(),
});

export type BuildTaskSpec = z.infer<typeof buildTaskSpecSchema>;
export type IssueChallengeTaskSpec = z.infer<typeof issueChallengeTaskSpecSchema>;
export type StreamLogsTaskSpec = z.infer<typeof streamLogsTaskSpecSchema>;
export type GcTaskSpec = z.infer<typeof gcTaskSpecSchema>;
export type NoopTaskSpec = z.infer<typeof noopTaskSpecSchema>;

export const taskSpecSchemas = {
  build: buildTaskSpecSchema,
  'issue-challenge': issueChallengeTaskSpecSchema,
  'stream-logs': streamLogsTaskSpecSchema,
  gc: gcTaskSpecSchema,
  noop: noopTaskSpecSchema,
} as const;

export type TaskKind = keyof typeof taskSpecSchemas;
export const TASK_KINDS = Object.freeze(Object.keys(taskSpecSchemas)) as readonly TaskKind[];

/** kind → the spec carried in the task's `payload`. */
export type TaskSpecs = { [K in TaskKind]: z.infer<(typeof taskSpecSchemas)[K]> };

const taskCommon = {
  id: idSchema,
  /** Stable across redeliveries: the agent journals it and answers a repeat with the recorded result. */
  idempotencyKey: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'printable ASCII without spaces, up to 200'),
  deadline: isoTimeSchema,
  /** 1 for the first delivery, then +1 per redelivery. */
  attempt: z.int().min(1).max(1000),
  /** The session it was sent in; an agent refuses a task from an older session. */
  sessionGeneration: sessionGenerationSchema,
};

/** control plane → agent. An unknown kind, or a payload that is not the kind's, is INVALID_FRAME. */
export const taskPayloadSchema = z.discriminatedUnion('kind', [
  z.object({ ...taskCommon, kind: z.literal('build'), payload: buildTaskSpecSchema }),
  z.object({ ...taskCommon, kind: z.literal('issue-challenge'), payload: issueChallengeTaskSpecSchema }),
  z.object({ ...taskCommon, kind: z.literal('stream-logs'), payload: streamLogsTaskSpecSchema }),
  z.object({ ...taskCommon, kind: z.literal('gc'), payload: gcTaskSpecSchema }),
  z.object({ ...taskCommon, kind: z.literal('noop'), payload: noopTaskSpecSchema }),
]);

export type TaskPayload = z.infer<typeof taskPayloadSchema>;
/** A task of one kind, narrowed: `Task<'build'>['payload']` is a BuildTaskSpec. */
export type Task<K extends TaskKind = TaskKind> = Extract<TaskPayload, { kind: K }>;
