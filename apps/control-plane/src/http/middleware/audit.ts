import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Db } from '../../db/connect';
import { writeAudit } from '../../audit/audit-log';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every mutating call leaves an audit row with actor, action, target and source address, whether
 * it succeeded or not. Routes name the action and target in `res.locals.audit`; otherwise the
 * method and route pattern are recorded.
 */
export function auditMutations(deps: { db: Db; logger: Logger }): RequestHandler {
  return (req, res, next) => {
    if (!MUTATING.has(req.method)) return next();
    res.on('finish', () => {
      const named = res.locals.audit;
      const route = (req.route as { path?: string } | undefined)?.path;
      const p = req.principal;
      writeAudit(deps.db, {
        actorType: p ? p.kind : (named?.actorType ?? 'anonymous'),
        actorId: p?.userId ?? named?.actorId ?? null,
        action: named?.action ?? `${req.method} ${req.baseUrl}${route ?? req.path}`,
        target: named?.target ?? null,
        ip: req.ip ?? null,
        status: res.statusCode,
        requestId: req.requestId,
        ...(named?.details ? { details: named.details } : {}),
      }).catch((err: unknown) => deps.logger.error({ err, reqId: req.requestId }, 'audit write failed'));
    });
    next();
  };
}
