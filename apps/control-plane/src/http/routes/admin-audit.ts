import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { DomainError } from '../../domain/errors';
import { listOf, type RouteDoc } from '../openapi';
import { decodeCursor, encodeCursor, pageQuery } from '../pagination';
import { requireAdmin } from '../principal';
import { parseInput } from '../validate';
import { escapeLike } from './like-pattern';

// API.md "Admin audit": the rows the audit middleware (http/middleware/audit.ts) writes for every
// mutating call, newest first. The cursor carries the row's time at full (microsecond) precision
// and its id, so the (at, id) keyset follows the audit_log_at index and no row is skipped.

const auditQuery = pageQuery.extend({
  actor: z
    .union([z.string().regex(/^[a-z]{2,5}_[0-9a-z]{20}$/), z.email()], { error: 'a user or node id, or an email address' })
    .optional()
    .describe('only calls by this actor: a user id, a node id, or a user email'),
  action: z
    .string()
    .regex(/^[A-Za-z0-9._:/ -]{1,100}$/, '1-100 of A-Z a-z 0-9 . _ : / - and space')
    .optional()
    .describe("only actions starting with this, e.g. 'wallet.' or 'auth.register'"),
  target: z
    .string()
    .regex(/^[a-z-]{1,30}:[^\s]{1,300}$/, "a target such as 'user:usr_…'")
    .optional()
    .describe("only calls on this exact target, e.g. 'user:usr_…'"),
});

const ACTOR_TYPES = ['user', 'api-token', 'node', 'system', 'anonymous'] as const;

const auditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({
    type: z.enum(ACTOR_TYPES),
    id: z.string().nullable().describe('a user id for users and API tokens (and sign-ups), a node id for nodes'),
    email: z.string().nullable().describe('the user behind the id, if it is one'),
  }),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string().nullable(),
  status: z.int().nullable().describe('the HTTP status the call was answered with'),
});

interface AuditRow {
  id: string;
  at: Date;
  at_key: string;
  actor_type: (typeof ACTOR_TYPES)[number];
  actor_id: string | null;
  email: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  status: number | null;
}

/** Admin: who did what to what, from where. */
export function adminAuditRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/admin/audit', async (req, res) => {
    requireAdmin(req);
    const query = parseInput(auditQuery, req.query, 'query');
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    if (cursor && !/^[0-9]{1,19}$/.test(cursor.id)) throw DomainError.validation([{ path: 'cursor', message: 'a cursor from a previous page' }]);
    const { db } = deps;
    const q = db('audit_log as a').leftJoin('users as u', 'u.id', 'a.actor_id');
    if (query.actor?.includes('@')) q.whereRaw('lower(u.email) = lower(?)', [query.actor]);
    else if (query.actor) q.where('a.actor_id', query.actor);
    if (query.action) q.whereRaw(`a.action like ? escape '\\'`, [`${escapeLike(query.action)}%`]);
    if (query.target) q.where('a.target', query.target);
    if (cursor) q.whereRaw('(a.at, a.id) < (?::timestamptz, ?::bigint)', [cursor.at, cursor.id]);
    const rows = await q
      .orderBy([
        { column: 'a.at', order: 'desc' },
        { column: 'a.id', order: 'desc' },
      ])
      .limit(query.limit + 1)
      .select<AuditRow[]>(
        'a.id',
        'a.at',
        db.raw(`to_char(a.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at_key`),
        'a.actor_type',
        'a.actor_id',
        'u.email',
        'a.action',
        'a.target',
        'a.ip',
        'a.status',
      );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    res.json({
      items: page.map((row) => ({
        id: String(row.id),
        at: new Date(row.at).toISOString(),
        actor: { type: row.actor_type, id: row.actor_id, email: row.email },
        action: row.action,
        target: row.target,
        ip: row.ip,
        status: row.status,
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.at_key, id: String(last.id) }) : null,
    });
  });
  return r;
}

export const adminAuditRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/admin/audit',
    summary: 'The audit log: every mutating call with its actor, action, target, source address and status, newest first',
    auth: 'admin',
    query: auditQuery,
    responses: { 200: { description: 'audit entries', schema: listOf(auditEntrySchema) } },
  },
];
