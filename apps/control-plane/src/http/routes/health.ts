import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import type { RouteDoc } from '../openapi';

export function healthRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready means the database answers, within a short bound so a hung pool cannot hang probes.
  r.get('/readyz', async (_req, res) => {
    const ok = await Promise.race([
      deps.db.raw('select 1').then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
    ]);
    res.status(ok ? 200 : 503).json(ok ? { status: 'ready' } : { error: { code: 'UNAVAILABLE', message: 'database unavailable' } });
  });
  return r;
}

export const healthRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    root: true,
    summary: 'Liveness: the process answers',
    auth: 'public',
    responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } },
  },
  {
    method: 'get',
    path: '/readyz',
    root: true,
    summary: 'Readiness: the database answers',
    auth: 'public',
    responses: {
      200: { description: 'ready', schema: z.object({ status: z.literal('ready') }) },
      503: { description: 'database unavailable (UNAVAILABLE)' },
    },
  },
];
