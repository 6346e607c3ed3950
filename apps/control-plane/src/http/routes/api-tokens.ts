import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { createApiToken, listApiTokens, revokeApiToken } from '../../auth/api-tokens';
import type { PrincipalCache } from '../../auth/principal-cache';
import { listOf, type RouteDoc } from '../openapi';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

const createBody = z.strictObject({ name: z.string().trim().min(1).max(100) });
const idParams = z.object({ id: z.string().regex(/^tok_[a-z0-9]{20}$/, 'not an api token id') });

export function apiTokenRoutes(deps: { db: Db; principals: Pick<PrincipalCache, 'forgetApiToken'> }): Router {
  const r = Router();
  r.post('/api-tokens', async (req, res) => {
    const p = requirePrincipal(req);
    const body = parseInput(createBody, req.body);
    const created = await createApiToken(deps.db, p.userId, body.name);
    res.locals.audit = { action: 'api-token.create', target: `api-token:${created.id}` };
    res.status(201).json(created);
  });
  r.get('/api-tokens', async (req, res) => {
    const p = requirePrincipal(req);
    res.json({ items: await listApiTokens(deps.db, p.userId), nextCursor: null });
  });
  r.delete('/api-tokens/:id', async (req, res) => {
    const p = requirePrincipal(req);
    const { id } = parseInput(idParams, req.params, 'params');
    res.locals.audit = { action: 'api-token.revoke', target: `api-token:${id}` };
    await revokeApiToken(deps.db, p.userId, id);
    // Refused from the next request on, whatever this process remembered of it.
    deps.principals.forgetApiToken(id);
    res.status(204).end();
  });
  return r;
}

const tokenView = z.object({ id: z.string(), name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() });

export const apiTokenRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/api-tokens',
    summary: 'Create an API token (the token is shown once)',
    auth: 'user',
    body: createBody,
    responses: { 201: { description: 'created', schema: tokenView.extend({ token: z.string() }) } },
  },
  { method: 'get', path: '/api-tokens', summary: "The caller's API tokens", auth: 'user', responses: { 200: { description: 'tokens', schema: listOf(tokenView) } } },
  {
    method: 'delete',
    path: '/api-tokens/:id',
    summary: 'Revoke an API token',
    auth: 'user',
    params: idParams,
    responses: { 204: { description: 'revoked' } },
  },
];
