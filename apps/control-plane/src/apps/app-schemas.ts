// The shapes customers send for apps, validated once at the edge; every problem names its field.
import { healthCheckSchema } from '@karvon/protocol';
import { z } from 'zod';
import { planId } from '../http/routes/plans';
import { regionId } from '../http/routes/regions';
import { parseImageReference } from './image-reference';

/** A DNS label: it is the first label of the app's system hostname. */
export const resourceName = z.string().regex(/^[a-z][a-z0-9-]{1,29}$/, 'a-z first, then a-z, 0-9 or -, 2–30 characters');

/** Opaque ids as the API hands them out (`app_…`); anything else is refused before a lookup. */
export const resourceId = z.string().regex(/^[a-z]{2,8}_[0-9a-z]{20}$/, 'an id as returned by the API');

export const imageReference = z.string().superRefine((value, ctx) => {
  const parsed = parseImageReference(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `not an image reference: ${parsed.message}` });
});

const gitUrl = z
  .string()
  .max(2048)
  .regex(/^(?:https:\/\/[^\s@]+|ssh:\/\/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$/, 'an https://, ssh:// or user@host:path git URL');
const branchName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._/-]{0,254}$/, 'a branch name');

/** An https token for a private repository; sealed at rest, never returned (see git-credentials.ts). */
export const gitTokenAuth = z.strictObject({
  type: z.literal('token'),
  username: z.string().regex(/^[A-Za-z0-9._@+-]{1,128}$/, '1–128 of A-Z a-z 0-9 . _ @ + -').optional(),
  token: z.string().regex(/^[\x21-\x7e]{1,4096}$/, '1–4096 printable ASCII characters, no spaces'),
});

/**
 * `auth`: a token (https only), `null` to remove the stored one; left out on PATCH it keeps the
 * stored token while the URL stays the same. ssh URLs use the app's deploy key instead.
 */
const gitSource = z
  .strictObject({ type: z.literal('git'), url: gitUrl, branch: branchName.default('main'), auth: gitTokenAuth.nullable().optional() })
  .superRefine((s, ctx) => {
    if (s.auth && !s.url.toLowerCase().startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: "a token is for https:// URLs; ssh URLs use the app's deploy key (GET /api/v1/apps/:id/deploy-key)" });
    }
  });

export const appSource = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('image'), image: imageReference }), gitSource]);
export type AppSource = z.infer<typeof appSource>;

/** The source as the API shows it: a credential is only named, never returned. */
export const appSourceView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('image'), image: z.string() }),
  z.object({
    type: z.literal('git'),
    url: z.string(),
    branch: z.string(),
    auth: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('token'), username: z.string() }).describe('a token is stored (it is never returned)'),
        z.object({ type: z.literal('deploy-key'), fingerprint: z.string() }).describe("the app's ssh deploy key is used"),
      ])
      .optional(),
  }),
]);
export type AppSourceView = z.infer<typeof appSourceView>;

export const appPort = z.int().min(1).max(65535);
/** Hard ceiling; the owner's tier and quotas may allow fewer. */
export const MAX_REPLICAS = 50;
export const replicaCount = z.int().min(0).max(MAX_REPLICAS);

export const createAppBody = z.strictObject({
  projectId: resourceId,
  name: resourceName,
  region: regionId,
  planId,
  source: appSource,
  port: appPort.default(8080),
  replicas: replicaCount.default(1),
  healthCheck: healthCheckSchema.optional(),
});
export type CreateAppInput = z.infer<typeof createAppBody>;

/** What can change after creation; it takes effect with the next deploy (or at once for nothing). */
export const patchAppBody = z
  .strictObject({
    planId: planId.optional(),
    source: appSource.optional(),
    port: appPort.optional(),
    healthCheck: healthCheckSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change: give planId, source, port or healthCheck' });
export type PatchAppInput = z.infer<typeof patchAppBody>;

export const idParams = z.object({ id: resourceId });
export const scaleBody = z.strictObject({ replicas: replicaCount });
export const deployBody = z.strictObject({ ref: branchName.optional() });
export const rollbackBody = z.strictObject({ release: z.int().min(1) });
