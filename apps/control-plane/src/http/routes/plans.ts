import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { createPlan, deletePlan, listPlans, updatePlan } from '../../catalog/plans';
import { listOf, type RouteDoc } from '../openapi';
import { requireAdmin, requirePrincipal } from '../principal';
import { parseInput } from '../validate';

/** Plan ids are chosen by the admin (`s-1`) or minted (`plan_…`); they appear in app records. */
export const planId = z.string().regex(/^[a-z][a-z0-9_-]{0,62}[a-z0-9]$/, 'a plan id: a-z, 0-9, _ and -, 2–64 characters');
const planName = z.string().trim().min(1).max(100);
// Whole units with sane ceilings: one replica never needs more than a big server.
const millicores = z.int().min(1).max(1_024_000);
const megabytes = z.int().min(1).max(16 * 1024 * 1024);
const price = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as UZS');

const createBody = z.strictObject({
  id: planId.optional(),
  name: planName,
  cpuMillicores: millicores,
  memoryMb: megabytes,
  diskMb: megabytes,
  hourlyPrice: price,
  currency: currency.optional(),
  active: z.boolean().optional(),
});
const patchBody = z
  .strictObject({
    name: planName.optional(),
    cpuMillicores: millicores.optional(),
    memoryMb: megabytes.optional(),
    diskMb: megabytes.optional(),
    hourlyPrice: price.optional(),
    currency: currency.optional(),
    active: z.boolean().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'at least one field is required');
const params = z.object({ id: planId });

/** What customers see: only active plans are offered, so `active` is not shown to them. */
const planView = z.object({
  id: z.string(),
  name: z.string(),
  cpuMillicores: z.number(),
  memoryMb: z.number(),
  diskMb: z.number(),
  hourlyPrice: z.number(),
  currency: z.string(),
});
const adminPlanView = planView.extend({ active: z.boolean() });

export function planRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/plans', async (req, res) => {
    requirePrincipal(req);
    const items = (await listPlans(deps.db, { activeOnly: true })).map(({ active: _active, ...p }) => p);
    res.json({ items, nextCursor: null });
  });
  r.get('/admin/plans', async (req, res) => {
    requireAdmin(req);
    res.json({ items: await listPlans(deps.db, { activeOnly: false }), nextCursor: null });
  });
  r.post('/admin/plans', async (req, res) => {
    requireAdmin(req);
    const body = parseInput(createBody, req.body);
    res.locals.audit = { action: 'plan.create', target: body.id ? `plan:${body.id}` : undefined, details: { name: body.name } };
    const plan = await createPlan(deps.db, body);
    res.locals.audit = { action: 'plan.create', target: `plan:${plan.id}` };
    res.status(201).json(plan);
  });
  r.patch('/admin/plans/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(params, req.params, 'params');
    const body = parseInput(patchBody, req.body);
    res.locals.audit = { action: 'plan.update', target: `plan:${id}`, details: body };
    res.json(await updatePlan(deps.db, id, body));
  });
  r.delete('/admin/plans/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(params, req.params, 'params');
    res.locals.audit = { action: 'plan.delete', target: `plan:${id}` };
    await deletePlan(deps.db, id);
    res.status(204).end();
  });
  return r;
}

export const planRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/plans', summary: 'Plans on offer (active ones)', auth: 'user', responses: { 200: { description: 'plans', schema: listOf(planView) } } },
  {
    method: 'get',
    path: '/admin/plans',
    summary: 'Every plan, active or not',
    auth: 'admin',
    responses: { 200: { description: 'plans', schema: listOf(adminPlanView) } },
  },
  {
    method: 'post',
    path: '/admin/plans',
    summary: 'Create a plan',
    auth: 'admin',
    body: createBody,
    responses: { 201: { description: 'created', schema: adminPlanView }, 409: { description: 'id or name taken (CONFLICT)' } },
  },
  {
    method: 'patch',
    path: '/admin/plans/:id',
    summary: 'Change a plan; resources and currency are fixed once apps use it',
    auth: 'admin',
    params,
    body: patchBody,
    responses: {
      200: { description: 'changed', schema: adminPlanView },
      409: { description: 'name taken, or resources/currency of a plan in use (CONFLICT)' },
    },
  },
  {
    method: 'delete',
    path: '/admin/plans/:id',
    summary: 'Delete a plan no app ever used (otherwise deactivate it)',
    auth: 'admin',
    params,
    responses: { 204: { description: 'deleted' }, 409: { description: 'used by apps: deactivate instead (CONFLICT)' } },
  },
];
