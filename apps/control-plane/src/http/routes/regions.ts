import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { createRegion, deleteRegion, listRegions, updateRegion } from '../../catalog/regions';
import { registryUrlProblem } from '../../catalog/registry-url';
import { listOf, type RouteDoc } from '../openapi';
import { requireAdmin, requirePrincipal } from '../principal';
import { parseInput } from '../validate';

/** Region ids are DNS labels: they appear in system hostnames (`<app>.<region>.<apps domain>`). */
export const regionId = z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'a DNS label: a-z, 0-9 and -, 2–32 characters');
const regionName = z.string().trim().min(1).max(100);
const registryUrl = z
  .string()
  .max(255)
  .superRefine((v, ctx) => {
    const problem = registryUrlProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const createBody = z.strictObject({ id: regionId, name: regionName, registryUrl: registryUrl.optional() });
const patchBody = z
  .strictObject({ name: regionName.optional(), registryUrl: registryUrl.nullable().optional() })
  .refine((b) => b.name !== undefined || b.registryUrl !== undefined, { message: 'name or registryUrl: nothing to change' });
const params = z.object({ id: regionId });

export function regionRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/regions', async (req, res) => {
    requirePrincipal(req);
    res.json({ items: await listRegions(deps.db), nextCursor: null });
  });
  r.post('/admin/regions', async (req, res) => {
    requireAdmin(req);
    const body = parseInput(createBody, req.body);
    res.locals.audit = { action: 'region.create', target: `region:${body.id}` };
    res.status(201).json(await createRegion(deps.db, body));
  });
  r.patch('/admin/regions/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(params, req.params, 'params');
    const body = parseInput(patchBody, req.body);
    res.locals.audit = { action: 'region.update', target: `region:${id}` };
    res.json(await updateRegion(deps.db, id, body));
  });
  r.delete('/admin/regions/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(params, req.params, 'params');
    res.locals.audit = { action: 'region.delete', target: `region:${id}` };
    await deleteRegion(deps.db, id);
    res.status(204).end();
  });
  return r;
}

const regionView = z.object({ id: z.string(), name: z.string() });
const adminRegionView = regionView.extend({ registryUrl: z.string().nullable() });

export const regionRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/regions', summary: 'Regions apps can run in', auth: 'user', responses: { 200: { description: 'regions', schema: listOf(regionView) } } },
  {
    method: 'post',
    path: '/admin/regions',
    summary: 'Create a region',
    auth: 'admin',
    body: createBody,
    responses: { 201: { description: 'created', schema: adminRegionView }, 409: { description: 'id taken (CONFLICT)' } },
  },
  {
    method: 'patch',
    path: '/admin/regions/:id',
    summary: "Rename a region or set its image registry (null removes it: builds then run on the node that runs the app)",
    auth: 'admin',
    params,
    body: patchBody,
    responses: { 200: { description: 'updated', schema: adminRegionView } },
  },
  {
    method: 'delete',
    path: '/admin/regions/:id',
    summary: 'Delete a region that never had nodes or apps',
    auth: 'admin',
    params,
    responses: { 204: { description: 'deleted' }, 409: { description: 'the region has nodes or apps (CONFLICT)' } },
  },
];
