import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { listNotifications, notificationView } from '../../billing/notifications';
import { listOf, type RouteDoc } from '../openapi';
import { decodeCursor, pageQuery, toPage } from '../pagination';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

const notificationSchema = z.object({
  id: z.string(),
  kind: z.string().describe('wallet.low | wallet.grace | wallet.suspended | wallet.resumed'),
  message: z.string(),
  data: z.record(z.string(), z.unknown()),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});

/** The caller's in-app notifications (billing warnings today), newest first. */
export function notificationRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/notifications', async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const rows = await listNotifications(deps.db, requirePrincipal(req).userId, { limit: page.limit, ...(page.cursor ? { cursor: decodeCursor(page.cursor) } : {}) });
    res.json(toPage(rows, page.limit, notificationView));
  });
  return r;
}

export const notificationRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/notifications', summary: 'Your notifications, newest first', auth: 'user', query: pageQuery, responses: { 200: { description: 'notifications', schema: listOf(notificationSchema) } } },
];
