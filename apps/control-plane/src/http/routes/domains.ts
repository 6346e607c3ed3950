import { Router } from 'express';
import { z } from 'zod';
import { loadOwned } from '../../access/load-owned';
import { idParams, resourceId } from '../../apps/app-schemas';
import type { AppRow } from '../../apps/app-row';
import type { Db } from '../../db/connect';
import { DomainError } from '../../domain/errors';
import { addDomain, listDomains, loadDomainView, removeDomain, verifyDomain, type DomainRow } from '../../domains/domains';
import type { HostnamePolicy } from '../../domains/hostname';
import type { TxtLookup } from '../../domains/txt-lookup';
import { listOf, type RouteDoc } from '../openapi';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

export interface DomainRouteDeps {
  db: Db;
  /** what a custom hostname may not be (the platform's own names) */
  policy: HostnamePolicy;
  txt: TxtLookup;
  /** a certificate became due: the certificate service looks now instead of at its next tick */
  requestCertificates(): void;
}

// The hostname is parsed by domains/hostname.ts (IDN normalization, look-alikes, platform names),
// which names `hostname` in its 400s; the schema here only bounds the size.
const addDomainBody = z.strictObject({ hostname: z.string().max(1000) });
const domainParams = z.object({ id: resourceId, domainId: resourceId });

export const domainSchema = z.object({
  id: z.string(),
  appId: z.string(),
  hostname: z.string(),
  status: z.enum(['pending-verification', 'verified']),
  verification: z.object({ type: z.literal('dns-txt'), name: z.string(), value: z.string() }),
  verifiedAt: z.string().nullable(),
  createdAt: z.string(),
  tls: z
    .object({
      status: z.enum(['pending', 'issued', 'failed']),
      notAfter: z.string().optional(),
      error: z.string().optional(),
      attempts: z.int().optional(),
      nextAttemptAt: z.string().optional(),
    })
    .optional(),
});

type OwnedDomain = DomainRow & { owner_id: string; region_id: string };

export function domainRoutes(deps: DomainRouteDeps): Router {
  const r = Router();
  const { db } = deps;
  const ownedApp = (req: Parameters<typeof requirePrincipal>[0]) => loadOwned<AppRow>(db, requirePrincipal(req), 'app', parseInput(idParams, req.params, 'params').id);
  /** The domain, only through its own app: a domain id under another app's path is a 404 too. */
  const ownedDomain = async (req: Parameters<typeof requirePrincipal>[0]) => {
    const p = parseInput(domainParams, req.params, 'params');
    const d = await loadOwned<OwnedDomain>(db, requirePrincipal(req), 'domain', p.domainId);
    if (d.app_id !== p.id) throw new DomainError('NOT_FOUND', 'domain not found');
    return d;
  };

  r.post('/apps/:id/domains', async (req, res) => {
    const app = await ownedApp(req);
    const body = parseInput(addDomainBody, req.body);
    res.locals.audit = { action: 'domain.create', target: `app:${app.id}`, details: { hostname: body.hostname.slice(0, 300) } };
    const view = await addDomain(db, app, body.hostname, deps.policy);
    res.locals.audit = { action: 'domain.create', target: `domain:${view.id}`, details: { appId: app.id, hostname: view.hostname } };
    res.status(201).json(view);
  });
  r.get('/apps/:id/domains', async (req, res) => {
    const app = await ownedApp(req);
    res.json({ items: await listDomains(db, app.id), nextCursor: null });
  });
  r.get('/apps/:id/domains/:domainId', async (req, res) => {
    const d = await ownedDomain(req);
    res.json(await loadDomainView(db, d.id));
  });
  r.post('/apps/:id/domains/:domainId/verify', async (req, res) => {
    const d = await ownedDomain(req);
    res.locals.audit = { action: 'domain.verify', target: `domain:${d.id}`, details: { hostname: d.hostname } };
    const { view, verifiedNow } = await verifyDomain(db, d, deps.txt);
    if (verifiedNow) deps.requestCertificates();
    res.json(view);
  });
  r.delete('/apps/:id/domains/:domainId', async (req, res) => {
    const d = await ownedDomain(req);
    res.locals.audit = { action: 'domain.delete', target: `domain:${d.id}`, details: { hostname: d.hostname } };
    await removeDomain(db, d);
    res.status(204).end();
  });
  return r;
}

const notFound = { description: 'not yours or no such app or domain (NOT_FOUND)' };
export const domainRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/apps/:id/domains',
    summary: 'Add a custom domain; publish the TXT record it returns, then verify',
    auth: 'user',
    params: idParams,
    body: addDomainBody,
    responses: {
      201: { description: 'pending verification', schema: domainSchema },
      400: { description: 'hostname refused: syntax, wildcard, IP literal, look-alike letters, public suffix or a platform name (VALIDATION_FAILED)' },
      404: notFound,
      409: { description: 'another app holds this hostname (CONFLICT)' },
      422: { description: 'too many domains on this app (QUOTA_EXCEEDED)' },
    },
  },
  { method: 'get', path: '/apps/:id/domains', summary: "The app's custom domains, with certificate state once verified", auth: 'user', params: idParams, responses: { 200: { description: 'domains', schema: listOf(domainSchema) }, 404: notFound } },
  { method: 'get', path: '/apps/:id/domains/:domainId', summary: 'One custom domain', auth: 'user', params: domainParams, responses: { 200: { description: 'the domain', schema: domainSchema }, 404: notFound } },
  {
    method: 'post',
    path: '/apps/:id/domains/:domainId/verify',
    summary: 'Check the TXT record; verified domains are routed and get a certificate',
    auth: 'user',
    params: domainParams,
    responses: {
      200: { description: 'verified (a certificate is being ordered: see tls)', schema: domainSchema },
      404: notFound,
      409: { description: 'the TXT record is missing or holds another value (CONFLICT, details.reason)' },
      503: { description: 'the DNS lookup failed (UNAVAILABLE)' },
    },
  },
  { method: 'delete', path: '/apps/:id/domains/:domainId', summary: 'Remove the domain, its route and its certificate', auth: 'user', params: domainParams, responses: { 204: { description: 'removed' }, 404: notFound } },
];
