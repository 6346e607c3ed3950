import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { DomainError, isDomainError } from '../../domain/errors';
import { ERROR_STATUS } from '../error-status';

/** body-parser signals its failures through `type` on the error it throws. */
function fromBodyParser(err: unknown): DomainError | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return new DomainError('VALIDATION_FAILED', 'body: malformed JSON');
  if (type === 'entity.too.large') return new DomainError('PAYLOAD_TOO_LARGE', 'body: larger than the limit');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new DomainError('VALIDATION_FAILED', 'body: unsupported encoding');
  return undefined;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new DomainError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

/** Writes the API.md error shape; unknown throws become INTERNAL without leaking internals. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known = isDomainError(err) ? err : fromBodyParser(err);
    const error = known ?? new DomainError('INTERNAL', 'internal error');
    if (!known) logger.error({ err, reqId: req.requestId }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = ERROR_STATUS[error.code];
    if (error.code === 'RATE_LIMITED' && typeof error.details?.retryAfterSeconds === 'number') {
      res.setHeader('Retry-After', String(error.details.retryAfterSeconds));
    }
    res.status(status).json({
      error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
    });
  };
}
