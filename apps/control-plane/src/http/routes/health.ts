import { Router } from 'express';
import type { Db } from '../../db/connect';

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
