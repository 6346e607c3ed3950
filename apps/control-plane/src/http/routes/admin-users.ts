import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { DomainError } from '../../domain/errors';
import { TIER_NAMES } from '../../quotas/tiers';
import type { RouteDoc } from '../openapi';
import { requireAdmin } from '../principal';
import { parseInput } from '../validate';

const params = z.object({ id: z.string().regex(/^usr_[0-9a-z]{20}$/, 'a user id') });
const patchBody = z.strictObject({ tier: z.enum(TIER_NAMES) });
const userSchema = z.object({ id: z.string(), email: z.string(), role: z.enum(['admin', 'customer']), tier: z.enum(TIER_NAMES) });

/** Admin: a customer's tier sets their quotas (quotas/tiers.ts). */
export function adminUserRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.patch('/admin/users/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(params, req.params, 'params');
    const body = parseInput(patchBody, req.body);
    res.locals.audit = { action: 'user.update', target: `user:${id}`, details: { tier: body.tier } };
    const [row] = await deps.db('users').where({ id }).update({ tier: body.tier, updated_at: deps.db.fn.now() }).returning<Array<{ id: string; email: string; role: string; tier: string }>>(['id', 'email', 'role', 'tier']);
    if (!row) throw new DomainError('NOT_FOUND', 'user not found');
    res.json(row);
  });
  return r;
}

export const adminUserRouteDocs: RouteDoc[] = [
  {
    method: 'patch',
    path: '/admin/users/:id',
    summary: "Set a user's tier (its quotas)",
    auth: 'admin',
    params,
    body: patchBody,
    responses: { 200: { description: 'the user', schema: userSchema }, 404: { description: 'NOT_FOUND' } },
  },
];
