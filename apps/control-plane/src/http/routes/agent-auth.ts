import { Router } from 'express';
import { z } from 'zod';
import { nodeFactsSchema } from '@karvon/protocol';
import type { Db } from '../../db/connect';
import { DomainError } from '../../domain/errors';
import type { TokenSigner } from '../../auth/jwt';
import { exchangeCredential, type AgentClaims } from '../../nodes/node-credentials';
import { createCredentialLookups } from '../../hub/node-lookups';
import { registerNode } from '../../nodes/register-node';
import type { RouteDoc } from '../openapi';
import { parseInput } from '../validate';

const nodeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a host name: letters, digits, . _ -, up to 63');
const registerBody = z.strictObject({
  token: z.string().min(1).max(256),
  hostname: nodeName,
  name: nodeName.optional(),
  agentVersion: z.string().min(1).max(64).default('unknown'),
  facts: nodeFactsSchema,
});

/** Agent-facing HTTP: registration and the credential → JWT exchange. Mounted before user auth. */
export function agentAuthRoutes(deps: { db: Db; agentTokens: TokenSigner<AgentClaims> }): Router {
  const r = Router();
  const byCredentialHash = createCredentialLookups(deps.db);
  r.post('/agent/register', async (req, res) => {
    const body = parseInput(registerBody, req.body);
    res.locals.audit = { action: 'node.register', target: `host:${body.hostname}` };
    const node = await registerNode(deps.db, { token: body.token, name: body.name ?? body.hostname, facts: body.facts, agentVersion: body.agentVersion });
    res.locals.audit = { action: 'node.register', target: `node:${node.nodeId}`, actorId: node.nodeId, actorType: 'node' };
    res.status(201).json(node);
  });
  r.post('/agent/token', async (req, res) => {
    const m = /^Bearer (\S{1,256})$/.exec(req.get('authorization') ?? '');
    if (!m) throw new DomainError('UNAUTHENTICATED', 'Authorization: Bearer <node credential> is required');
    // The credential lookups of many agents exchanging at once share one statement.
    const issued = await exchangeCredential(byCredentialHash, deps.agentTokens, m[1]!);
    res.locals.audit = { action: 'node.token', target: `node:${issued.nodeId}`, actorId: issued.nodeId, actorType: 'node' };
    res.json({ token: issued.token, expiresAt: issued.expiresAt });
  });
  return r;
}

export const agentAuthRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/agent/register',
    summary: 'Trade a registration token (in the body) for a node and its credential',
    auth: 'public',
    body: registerBody,
    responses: {
      201: { description: 'registered; the credential is shown once', schema: z.object({ nodeId: z.string(), credential: z.string() }) },
      401: { description: 'unknown, used or expired token (UNAUTHENTICATED)' },
    },
  },
  {
    method: 'post',
    path: '/agent/token',
    summary: 'Trade a node credential for a short-lived agent JWT',
    auth: 'agent',
    responses: { 200: { description: 'agent token', schema: z.object({ token: z.string(), expiresAt: z.string() }) } },
  },
];
