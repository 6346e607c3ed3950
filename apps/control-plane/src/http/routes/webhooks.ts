// Git push webhooks: POST /hooks/{github|gitlab|gitea|generic}/:hookId (API.md "Git push
// webhooks"). Served outside /api/v1 because a signature is over the exact bytes sent, so the body
// is read raw (capped at 1 MiB → 413) instead of by the JSON parser. The order matters: unknown
// hook → 404, then the signature on the raw bytes → 401, and only then is anything in the
// request parsed or stored. Work is recorded and queued; the build runs in the background.
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { writeAudit } from '../../audit/audit-log';
import { DomainError } from '../../domain/errors';
import type { SecretBox } from '../../secrets/secret-box';
import { findHookedApp, type HookedApp } from '../../webhooks/app-hooks';
import { HOOK_PROVIDERS, hookSecretAad, type HookProvider } from '../../webhooks/hook-secret';
import { decidePush, genericPushBody, readDelivery } from '../../webhooks/push-delivery';
import { recordPush } from '../../webhooks/record-push';
import { verifySignature } from '../../webhooks/signature';
import type { RouteDoc } from '../openapi';

export const WEBHOOK_BODY_LIMIT = '1mb';

export interface WebhookRouteDeps {
  db: Db;
  secrets: SecretBox;
  logger: Logger;
  wakeDeploys(): void;
}

const hookParams = z.object({ hookId: z.string() });

/** The hook's secret, or undefined when there is none or it cannot be opened (never verifies). */
function hookSecret(deps: WebhookRouteDeps, app: HookedApp): string | undefined {
  if (!app.webhook_secret_ciphertext) return undefined;
  try {
    return deps.secrets.open(app.webhook_secret_ciphertext, hookSecretAad(app.id));
  } catch (err) {
    deps.logger.error({ err, appId: app.id }, 'webhook secret cannot be opened; rotate it');
    return undefined;
  }
}

export function webhookRoutes(deps: WebhookRouteDeps): Router {
  const r = Router();
  // Every content type is read as bytes: what is signed is what was sent, whatever it claims to be.
  const raw = express.raw({ limit: WEBHOOK_BODY_LIMIT, type: () => true });

  const receive = (provider: HookProvider): express.RequestHandler => async (req, res) => {
    const { hookId } = hookParams.parse(req.params);
    // One answer for a malformed id, an id that never existed and a deleted app's hook.
    const app = await findHookedApp(deps.db, hookId);
    if (!app) throw new DomainError('NOT_FOUND', 'no such hook');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifySignature(provider, req.headers, body, hookSecret(deps, app))) {
      throw new DomainError('UNAUTHENTICATED', 'missing or invalid webhook signature');
    }
    const decision = decidePush(readDelivery(provider, req.headers, body), app.source);
    if (decision.kind === 'ignored') {
      res.status(200).json({ ignored: decision.reason });
      return;
    }
    const outcome = await recordPush(deps.db, app.id, provider, decision);
    if (outcome.kind === 'duplicate') {
      res.status(200).json({ ignored: 'duplicate delivery' });
      return;
    }
    deps.wakeDeploys();
    res.status(202).json({ deployId: outcome.deployId });
    // The hook's secret is the actor's credential; the audit names the owner's app it acted on.
    writeAudit(deps.db, {
      actorType: 'system',
      actorId: null,
      action: 'app.webhook.push',
      target: `app:${app.id}`,
      ip: req.ip ?? null,
      status: 202,
      requestId: req.requestId,
      details: { provider, deliveryId: decision.deliveryId, branch: decision.branch, commitSha: decision.after, deployId: outcome.deployId },
    }).catch((err: unknown) => deps.logger.error({ err, reqId: req.requestId }, 'audit write failed'));
  };

  for (const provider of HOOK_PROVIDERS) r.post(`/hooks/${provider}/:hookId`, raw, receive(provider));
  return r;
}

const responses = {
  202: { description: 'the push queued a deploy of exactly the pushed commit', schema: z.object({ deployId: z.string() }) },
  200: { description: 'accepted and ignored: another branch, not a push, a tag, a deleted branch or a duplicate delivery', schema: z.object({ ignored: z.string() }) },
  400: { description: 'signed, but the headers or payload are not the provider’s push format (VALIDATION_FAILED)' },
  401: { description: 'missing or invalid signature, or the hook has no secret yet (UNAUTHENTICATED)' },
  404: { description: 'no such hook (NOT_FOUND)' },
  413: { description: 'body over 1 MiB (PAYLOAD_TOO_LARGE)' },
};
const pushPayload = z.object({ ref: z.string().describe('refs/heads/<branch>'), after: z.string().describe('the full SHA of the pushed commit') });

const HEADERS: Record<HookProvider, string> = {
  github: 'X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>, X-GitHub-Event (push), X-GitHub-Delivery',
  gitlab: 'X-Gitlab-Token: <the secret>, X-Gitlab-Event (Push Hook), Idempotency-Key or X-Gitlab-Event-UUID',
  gitea: 'X-Gitea-Signature: <hex HMAC-SHA256 of the raw body>, X-Gitea-Event (push), X-Gitea-Delivery (Gitea and Forgejo)',
  generic: 'X-Karvon-Signature: sha256=<hex HMAC-SHA256 of the raw body>, X-Karvon-Delivery; body {ref, after}',
};

export const webhookRouteDocs: RouteDoc[] = HOOK_PROVIDERS.map((provider) => ({
  method: 'post',
  path: `/hooks/${provider}/:hookId`,
  root: true,
  summary: `Git push webhook (${provider}); headers: ${HEADERS[provider]}`,
  auth: 'public',
  params: hookParams,
  body: provider === 'generic' ? genericPushBody : pushPayload,
  responses,
}));
