// What a verified delivery asks for, decided in pure code: each provider's headers and push
// payload are parsed by a schema into {deliveryId, branch, after}, or into the reason it is
// ignored (not a push, a tag, a deleted branch, another branch). Only the fields Karvon acts on
// are kept; the rest of a provider's payload is dropped by the schema, never merged anywhere.
import { z } from 'zod';
import { DomainError, type FieldProblem } from '../domain/errors';
import type { AppSource } from '../apps/app-schemas';
import type { HookProvider } from './hook-secret';
import { headerValue, type HeaderBag } from './signature';

export type HookDelivery =
  | { kind: 'push'; deliveryId: string; branch: string; after: string }
  | { kind: 'ignored'; deliveryId: string; reason: string };

export type PushDecision = { kind: 'deploy'; deliveryId: string; branch: string; after: string } | { kind: 'ignored'; reason: string };

/** Provider delivery ids are UUIDs or similar; 128 printable characters bound what we store. */
const deliveryId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'a delivery id: 1–128 of A-Z a-z 0-9 . _ : -');
const eventName = z.string().min(1).max(64).regex(/^[A-Za-z0-9 _.-]+$/, 'an event name');
/** A full commit id: SHA-1 (40 hex) or SHA-256 (64 hex) repositories. */
const commitSha = z
  .string()
  .regex(/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, 'a full commit SHA (40 or 64 hex digits)')
  .transform((s) => s.toLowerCase());
const gitRef = z.string().min(1).max(1024);
const cloneUrl = z.string().min(1).max(2048);

const githubPush = z.object({ ref: gitRef, after: commitSha, deleted: z.boolean().optional(), repository: z.object({ clone_url: cloneUrl }) });
const gitlabPush = z.object({ object_kind: z.literal('push'), ref: gitRef, after: commitSha, repository: z.object({ git_http_url: cloneUrl }) });
const giteaPush = z.object({ ref: gitRef, after: commitSha, deleted: z.boolean().optional(), repository: z.object({ clone_url: cloneUrl }) });
/** The generic format is Karvon's own: just the ref and the commit. */
export const genericPushBody = z.object({ ref: gitRef, after: commitSha });

/** Per provider: which headers carry the delivery id and the event, and which event is a push. */
const PROVIDERS: Record<HookProvider, { delivery: readonly string[]; event?: string; push?: string; body: z.ZodType<{ ref: string; after: string; deleted?: boolean | undefined }> }> = {
  github: { delivery: ['x-github-delivery'], event: 'x-github-event', push: 'push', body: githubPush },
  // Newer GitLab sends Idempotency-Key (stable across retries); older only X-Gitlab-Event-UUID.
  gitlab: { delivery: ['idempotency-key', 'x-gitlab-event-uuid'], event: 'x-gitlab-event', push: 'Push Hook', body: gitlabPush },
  gitea: { delivery: ['x-gitea-delivery'], event: 'x-gitea-event', push: 'push', body: giteaPush },
  generic: { delivery: ['x-karvon-delivery'], body: genericPushBody },
};

const ZERO_SHA = /^0+$/;
const BRANCH_PREFIX = 'refs/heads/';

function invalid(problems: FieldProblem[]): DomainError {
  return DomainError.validation(problems);
}

function fromIssues(issues: readonly z.core.$ZodIssue[], prefix: string): FieldProblem[] {
  return issues.map((i) => ({ path: [prefix, ...i.path.map(String)].join('.'), message: i.message }));
}

/**
 * Reads a delivery whose signature has already been verified. Throws VALIDATION_FAILED naming the
 * header or body field when the provider's contract is not met.
 */
export function readDelivery(provider: HookProvider, headers: HeaderBag, rawBody: Buffer): HookDelivery {
  const spec = PROVIDERS[provider];
  const idHeader = spec.delivery.find((h) => headerValue(headers, h) !== undefined) ?? spec.delivery[0]!;
  const id = deliveryId.safeParse(headerValue(headers, idHeader));
  if (!id.success) throw invalid([{ path: `headers.${idHeader}`, message: id.error.issues[0]?.message ?? 'required' }]);

  if (spec.event) {
    const event = eventName.safeParse(headerValue(headers, spec.event));
    if (!event.success) throw invalid([{ path: `headers.${spec.event}`, message: event.error.issues[0]?.message ?? 'required' }]);
    if (event.data !== spec.push) return { kind: 'ignored', deliveryId: id.data, reason: `not a push event (${event.data})` };
  }

  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw invalid([{ path: 'body', message: 'malformed JSON' }]);
  }
  const body = spec.body.safeParse(json);
  if (!body.success) throw invalid(fromIssues(body.error.issues, 'body'));
  const { ref, after, deleted } = body.data;

  if (deleted === true || ZERO_SHA.test(after)) return { kind: 'ignored', deliveryId: id.data, reason: 'branch deleted' };
  if (!ref.startsWith(BRANCH_PREFIX) || ref.length === BRANCH_PREFIX.length) return { kind: 'ignored', deliveryId: id.data, reason: 'not a branch push (tag or other ref)' };
  return { kind: 'push', deliveryId: id.data, branch: ref.slice(BRANCH_PREFIX.length), after };
}

/** Does this push deploy the app? Only git apps, only their own branch. */
export function decidePush(delivery: HookDelivery, source: AppSource): PushDecision {
  if (delivery.kind === 'ignored') return { kind: 'ignored', reason: delivery.reason };
  if (source.type !== 'git') return { kind: 'ignored', reason: 'the app does not deploy from git' };
  if (delivery.branch !== source.branch) {
    return { kind: 'ignored', reason: `push to another branch (${JSON.stringify(delivery.branch.slice(0, 100))}); this app deploys ${JSON.stringify(source.branch)}` };
  }
  return { kind: 'deploy', deliveryId: delivery.deliveryId, branch: delivery.branch, after: delivery.after };
}
