// An app's ssh deploy key as its owner manages it: read the public half (the key is made on first
// read), rotate it, and forget the host keys trusted so far. The private half is never returned.
// Ownership through loadOwned: another tenant's app is 404.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Db } from '../db/connect';
import { loadOwned } from '../access/load-owned';
import { writeAudit } from '../audit/audit-log';
import type { RouteDoc } from '../http/openapi';
import { requirePrincipal } from '../http/principal';
import { parseInput } from '../http/validate';
import type { SecretBox } from '../secrets/secret-box';
import type { AppRow } from './app-row';
import { idParams } from './app-schemas';
import { ensureDeployKey, forgetKnownHosts, requireGitApp, rotateDeployKey } from './deploy-keys';

export interface DeployKeyRouteDeps {
  db: Db;
  secrets: SecretBox;
}

const deployKeySchema = z.object({
  publicKey: z.string().describe('`ssh-ed25519 AAAA… karvon-app-<id>`: add it to the git host as a read-only deploy key'),
  fingerprint: z.string().describe('`SHA256:…`, as ssh-keygen -l and git hosts show it'),
  createdAt: z.string(),
  knownHosts: z.array(z.string()).describe('host keys the builds accepted on first use (known_hosts lines)'),
});

export function deployKeyRoutes(deps: DeployKeyRouteDeps): Router {
  const r = Router();
  const { db } = deps;
  const owned = (req: Request) => loadOwned<AppRow>(db, requirePrincipal(req), 'app', parseInput(idParams, req.params, 'params').id);

  r.get('/apps/:id/deploy-key', async (req, res) => {
    const app = await owned(req);
    requireGitApp(app.source);
    const { key, created } = await ensureDeployKey(db, deps.secrets, app);
    if (created) {
      // A GET that makes a key is a mutation; the audit middleware only sees POST/PUT/PATCH/DELETE.
      const p = requirePrincipal(req);
      await writeAudit(db, { actorType: p.kind, actorId: p.userId, action: 'app.deploy-key.create', target: `app:${app.id}`, ip: req.ip ?? null, status: 200, requestId: req.requestId });
    }
    res.set('cache-control', 'no-store').json(key);
  });

  r.post('/apps/:id/deploy-key/rotate', async (req, res) => {
    const app = await owned(req);
    res.locals.audit = { action: 'app.deploy-key.rotate', target: `app:${app.id}` };
    requireGitApp(app.source);
    res.set('cache-control', 'no-store').json(await rotateDeployKey(db, deps.secrets, app.id));
  });

  r.delete('/apps/:id/deploy-key/known-hosts', async (req, res) => {
    const app = await owned(req);
    res.locals.audit = { action: 'app.deploy-key.forget-hosts', target: `app:${app.id}` };
    requireGitApp(app.source);
    await forgetKnownHosts(db, app.id);
    res.status(204).end();
  });
  return r;
}

const notFound = { description: 'not yours or no such app (NOT_FOUND)' };
const notGit = { description: 'the app deploys an image, not git (CONFLICT)' };
export const deployKeyRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/apps/:id/deploy-key',
    summary: "The app's ssh deploy key (public half, made on first read) and the host keys its builds trust",
    auth: 'user',
    params: idParams,
    responses: { 200: { description: 'the deploy key', schema: deployKeySchema }, 404: notFound, 409: notGit },
  },
  {
    method: 'post',
    path: '/apps/:id/deploy-key/rotate',
    summary: 'A new deploy key pair; builds stop using the old one at once',
    auth: 'user',
    params: idParams,
    responses: { 200: { description: 'the new deploy key', schema: deployKeySchema }, 404: notFound, 409: notGit },
  },
  {
    method: 'delete',
    path: '/apps/:id/deploy-key/known-hosts',
    summary: 'Forget the trusted ssh host keys (after the git host changed its key); the next build trusts what it meets',
    auth: 'user',
    params: idParams,
    responses: { 204: { description: 'forgotten' }, 404: notFound, 409: notGit },
  },
];
