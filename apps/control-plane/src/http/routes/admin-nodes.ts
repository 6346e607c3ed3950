import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { createRegistrationToken, installCommand } from '../../nodes/registration-tokens';
import { capacityByRegion, nodeMetrics, revokeNode, updateNode } from '../../nodes/node-admin';
import { getNode, listNodes } from '../../nodes/node-views';
import { listOf, type RouteDoc } from '../openapi';
import { requireAdmin } from '../principal';
import { parseInput } from '../validate';
import { regionId } from './regions';

export const nodeLabel = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'labels are lower-case words: a-z, 0-9, . _ -');
const labels = z.array(nodeLabel).max(32).transform((l) => [...new Set(l)].sort());
const tokenBody = z.strictObject({
  region: regionId,
  labels: labels.optional(),
  ttlSeconds: z.number().int().min(60).max(7 * 24 * 3600).optional(),
});
const nodeParams = z.object({ id: z.string().regex(/^node_[a-z0-9]{20}$/, 'not a node id') });
const patchBody = z
  .strictObject({ status: z.enum(['active', 'draining', 'disabled']).optional(), labels: labels.optional() })
  .refine((b) => b.status !== undefined || b.labels !== undefined, 'status or labels is required');
const listQuery = z.strictObject({
  region: regionId.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: z.string().max(64).optional(),
});
const metricsQuery = z.strictObject({ since: z.iso.datetime({ offset: true }).optional() });

export interface NodeSockets {
  /** closes the node's live socket, if this process holds it, with a revocation close code */
  revoke(nodeId: string): void;
}

export function adminNodeRoutes(deps: { db: Db; publicUrl: string; sockets: NodeSockets }): Router {
  const r = Router();
  r.post('/admin/node-tokens', async (req, res) => {
    const admin = requireAdmin(req);
    const body = parseInput(tokenBody, req.body);
    const issued = await createRegistrationToken(deps.db, {
      region: body.region,
      labels: body.labels ?? [],
      ttlSeconds: body.ttlSeconds ?? 3600,
      createdBy: admin.userId,
    });
    res.locals.audit = { action: 'node-token.create', target: `node-token:${issued.id}`, details: { region: body.region } };
    res.status(201).json({ token: issued.token, expiresAt: issued.expiresAt, installCommand: installCommand(deps.publicUrl, issued.token) });
  });
  r.get('/admin/nodes', async (req, res) => {
    requireAdmin(req);
    const q = parseInput(listQuery, req.query, 'query');
    res.json(await listNodes(deps.db, q));
  });
  r.get('/admin/nodes/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(nodeParams, req.params, 'params');
    res.json(await getNode(deps.db, id));
  });
  r.get('/admin/nodes/:id/metrics', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(nodeParams, req.params, 'params');
    const q = parseInput(metricsQuery, req.query, 'query');
    const since = q.since ? new Date(q.since) : new Date(Date.now() - 3600_000);
    res.json({ items: await nodeMetrics(deps.db, id, since), nextCursor: null });
  });
  r.patch('/admin/nodes/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(nodeParams, req.params, 'params');
    const body = parseInput(patchBody, req.body);
    res.locals.audit = { action: 'node.update', target: `node:${id}`, details: body };
    await updateNode(deps.db, id, body);
    res.json(await getNode(deps.db, id));
  });
  r.delete('/admin/nodes/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(nodeParams, req.params, 'params');
    res.locals.audit = { action: 'node.delete', target: `node:${id}` };
    await revokeNode(deps.db, id);
    deps.sockets.revoke(id);
    res.status(204).end();
  });
  r.get('/admin/capacity', async (req, res) => {
    requireAdmin(req);
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await listNodes(deps.db, { limit: 200, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    res.json({ items: capacityByRegion(all) });
  });
  return r;
}

const resources = z.object({ cpuMillicores: z.number(), memoryMb: z.number(), diskMb: z.number() });
const nodeView = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  labels: z.array(z.string()),
  status: z.enum(['online', 'suspect', 'offline', 'draining', 'drained', 'disabled']),
  liveness: z.enum(['online', 'suspect', 'offline']),
  degraded: z.boolean(),
  capacity: resources,
  allocated: resources,
  usage: z.object({ cpuPercent: z.number(), memoryMb: z.number(), diskMb: z.number() }),
  containerCount: z.number(),
  lastHeartbeatAt: z.string().nullable(),
  agentVersion: z.string().nullable(),
  facts: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
const metricPoint = z.object({
  at: z.string(),
  cpuPercent: z.number(),
  memoryUsedMb: z.number(),
  diskUsedMb: z.number(),
  load1: z.number().nullable(),
  netRxBytes: z.number().nullable(),
  netTxBytes: z.number().nullable(),
  containerCount: z.number(),
});
const regionCapacity = z.object({
  region: z.string(),
  nodes: z.record(z.string(), z.number()),
  total: resources,
  allocated: resources,
  used: resources,
});

export const adminNodeRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/admin/node-tokens',
    summary: 'Issue a single-use node registration token',
    auth: 'admin',
    body: tokenBody,
    responses: {
      201: { description: 'issued', schema: z.object({ token: z.string(), expiresAt: z.string(), installCommand: z.string() }) },
    },
  },
  { method: 'get', path: '/admin/nodes', summary: 'Nodes', auth: 'admin', query: listQuery, responses: { 200: { description: 'nodes', schema: listOf(nodeView) } } },
  { method: 'get', path: '/admin/nodes/:id', summary: 'One node', auth: 'admin', params: nodeParams, responses: { 200: { description: 'the node', schema: nodeView } } },
  {
    method: 'get',
    path: '/admin/nodes/:id/metrics',
    summary: "A node's stored metrics since a time (default: the last hour)",
    auth: 'admin',
    params: nodeParams,
    query: metricsQuery,
    responses: { 200: { description: 'points, oldest first', schema: listOf(metricPoint) } },
  },
  {
    method: 'patch',
    path: '/admin/nodes/:id',
    summary: "Drain, disable or reactivate a node, or change its labels",
    auth: 'admin',
    params: nodeParams,
    body: patchBody,
    responses: { 200: { description: 'the node', schema: nodeView } },
  },
  {
    method: 'delete',
    path: '/admin/nodes/:id',
    summary: "Remove a node: revokes its credential and closes its socket",
    auth: 'admin',
    params: nodeParams,
    responses: { 204: { description: 'removed' } },
  },
  {
    method: 'get',
    path: '/admin/capacity',
    summary: 'Per region: nodes by status and total / allocated / used resources',
    auth: 'admin',
    responses: { 200: { description: 'capacity', schema: z.object({ items: z.array(regionCapacity) }) } },
  },
];
