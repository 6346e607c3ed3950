import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

/**
 * One structured line per request, after it ends. Headers and bodies are never logged. Costs
 * nothing per request while the level is above info (asked per request: the level may change).
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!logger.isLevelEnabled('info')) return next();
    const started = performance.now();
    res.once('finish', () => {
      const url = req.originalUrl;
      const q = url.indexOf('?');
      logger.info(
        { reqId: req.requestId, method: req.method, path: q < 0 ? url : url.slice(0, q), status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10 },
        'request',
      );
    });
    next();
  };
}
