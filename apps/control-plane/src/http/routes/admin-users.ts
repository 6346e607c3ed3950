import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_CURRENCY, money } from '../../billing/money';
import type { Db } from '../../db/connect';
import { DomainError } from '../../domain/errors';
import { TIER_NAMES } from '../../quotas/tiers';
import { listOf, type RouteDoc } from '../openapi';
import { decodeCursor, pageQuery, toPage } from '../pagination';
import { requireAdmin } from '../principal';
import { parseInput } from '../validate';
import { escapeLike } from './like-pattern';

const params = z.object({ id: z.string().regex(/^usr_[0-9a-z]{20}$/, 'a user id') });
const patchBody = z.strictObject({ tier: z.enum(TIER_NAMES) });
const userSchema = z.object({ id: z.string(), email: z.string(), role: z.enum(['admin', 'customer']), tier: z.enum(TIER_NAMES) });
const listQuery = pageQuery.extend({
  q: z.string().trim().min(1, 'at least 1 character').max(254, 'at most 254 characters').optional().describe('only users whose email contains this (any case)'),
});
const listedUserSchema = userSchema.extend({
  createdAt: z.string(),
  balance: z.int().describe("the wallet's balance in the minor unit (0 before the first credit)"),
  currency: z.string(),
});

interface ListedRow {
  id: string;
  email: string;
  role: 'admin' | 'customer';
  tier: (typeof TIER_NAMES)[number];
  created_at: Date;
  balance: string | null;
  currency: string | null;
}

/** Admin: a customer's tier sets their quotas (quotas/tiers.ts). */
export function adminUserRoutes(deps: { db: Db }): Router {
  const r = Router();
  // Not in API.md: what the panel's customers page needs (issue 11, "customers with wallet credit").
  r.get('/admin/users', async (req, res) => {
    requireAdmin(req);
    const query = parseInput(listQuery, req.query, 'query');
    const q = deps.db('users as u').leftJoin('wallets as w', 'w.user_id', 'u.id');
    if (query.q) q.whereRaw(`u.email ilike ? escape '\\'`, [`%${escapeLike(query.q)}%`]);
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      q.whereRaw(`(date_trunc('milliseconds', u.created_at), u.id) < (?::timestamptz, ?)`, [c.at, c.id]);
    }
    const rows = await q
      .orderByRaw(`date_trunc('milliseconds', u.created_at) desc, u.id desc`)
      .limit(query.limit + 1)
      .select<ListedRow[]>('u.id', 'u.email', 'u.role', 'u.tier', 'u.created_at', 'w.balance', 'w.currency');
    res.json(
      toPage(rows, query.limit, (row) => ({
        id: row.id,
        email: row.email,
        role: row.role,
        tier: row.tier,
        createdAt: new Date(row.created_at).toISOString(),
        balance: money(row.balance),
        currency: row.currency ?? DEFAULT_CURRENCY,
      })),
    );
  });
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
    method: 'get',
    path: '/admin/users',
    summary: 'Users with their tier and wallet balance, newest first',
    auth: 'admin',
    query: listQuery,
    responses: { 200: { description: 'users', schema: listOf(listedUserSchema) } },
  },
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
