// An app's push webhook as its owner manages it: read the URL (the hook is made on first read) and
// rotate the secret, which is shown only in the rotate answer. Ownership through loadOwned: another
// tenant's app is 404.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { loadOwned } from '../../access/load-owned';
import { idParams } from '../../apps/app-schemas';
import type { AppRow } from '../../apps/app-row';
import { writeAudit } from '../../audit/audit-log';
import type { SecretBox } from '../../secrets/secret-box';
import { ensureHook, requireGitSource, rotateHook, type HookColumns } from '../../webhooks/app-hooks';
import { HOOK_PROVIDERS, hookUrls, secretHint } from '../../webhooks/hook-secret';
import type { RouteDoc } from '../openapi';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

export interface AppWebhookRouteDeps {
  db: Db;
  secrets: SecretBox;
  publicUrl: string;
}

const urlsSchema = z.object(Object.fromEntries(HOOK_PROVIDERS.map((p) => [p, z.string()])) as Record<(typeof HOOK_PROVIDERS)[number], z.ZodString>);
const webhookSchema = z.object({
  url: z.string().describe('the generic-format endpoint (X-Karvon-Signature); urls has one per provider'),
  urls: urlsSchema,
  secretHint: z.string().describe('the last 4 characters of the secret'),
});
const rotatedSchema = z.object({ url: z.string(), urls: urlsSchema, secret: z.string().describe('shown only here: store it in the git host') });

export function appWebhookRoutes(deps: AppWebhookRouteDeps): Router {
  const r = Router();
  const { db } = deps;
  const owned = (req: Request) => loadOwned<AppRow & HookColumns>(db, requirePrincipal(req), 'app', parseInput(idParams, req.params, 'params').id);
  const urls = (webhookId: string) => {
    const all = hookUrls(deps.publicUrl, webhookId);
    return { url: all.generic, urls: all };
  };

  r.get('/apps/:id/webhook', async (req, res) => {
    const app = await owned(req);
    requireGitSource(app.source);
    const { hook, created } = await ensureHook(db, deps.secrets, app);
    if (created) {
      // A GET that mints a secret is a mutation; the audit middleware only sees POST/PUT/PATCH/DELETE.
      const p = requirePrincipal(req);
      await writeAudit(db, { actorType: p.kind, actorId: p.userId, action: 'app.webhook.create', target: `app:${app.id}`, ip: req.ip ?? null, status: 200, requestId: req.requestId });
    }
    res.set('cache-control', 'no-store').json({ ...urls(hook.webhookId), secretHint: secretHint(hook.secret) });
  });

  r.post('/apps/:id/webhook/rotate', async (req, res) => {
    const app = await owned(req);
    res.locals.audit = { action: 'app.webhook.rotate', target: `app:${app.id}` };
    requireGitSource(app.source);
    const hook = await rotateHook(db, deps.secrets, app.id);
    res.set('cache-control', 'no-store').json({ ...urls(hook.webhookId), secret: hook.secret });
  });
  return r;
}

const notFound = { description: 'not yours or no such app (NOT_FOUND)' };
const notGit = { description: 'the app deploys an image, not git (CONFLICT)' };
export const appWebhookRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/apps/:id/webhook',
    summary: "The app's push webhook URLs and a hint of its secret (made on first read)",
    auth: 'user',
    params: idParams,
    responses: { 200: { description: 'the hook', schema: webhookSchema }, 404: notFound, 409: notGit },
  },
  {
    method: 'post',
    path: '/apps/:id/webhook/rotate',
    summary: 'A new webhook secret, shown once; the old one stops verifying at once',
    auth: 'user',
    params: idParams,
    responses: { 200: { description: 'the hook with its new secret', schema: rotatedSchema }, 404: notFound, 409: notGit },
  },
];
