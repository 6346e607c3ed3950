import type { RequestHandler } from 'express';
import { DomainError } from '../../domain/errors';
import { createRateLimiter, type RateLimiter } from '../../auth/rate-limiter';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface MutationLimitSettings {
  /** changes per principal per minute */
  perMinute: number;
  /** changes per principal in any 10-second window: a script cannot spend the minute's budget at once */
  burst: number;
}

export const BURST_WINDOW_MS = 10_000;

export interface MutationLimiters {
  sustained: RateLimiter;
  burst: RateLimiter;
}

export function createMutationLimiters(s: MutationLimitSettings, now?: () => number): MutationLimiters {
  return {
    sustained: createRateLimiter({ limit: s.perMinute, windowMs: 60_000, ...(now ? { now } : {}) }),
    burst: createRateLimiter({ limit: s.burst, windowMs: BURST_WINDOW_MS, ...(now ? { now } : {}) }),
  };
}

/**
 * Bounds how fast one caller can change things (each change may start containers, builds and
 * database work on shared nodes). Keyed by user, so a user's API tokens share one budget rather
 * than multiplying it. Mounted after authentication; anonymous calls (sign-up, login, agents)
 * have limits of their own, and reads are not counted. Admins are the operator: their scripts
 * register fleets of nodes by the thousand (a token per node), and a tenant flood is what this
 * guards against.
 */
export function limitMutations(limiters: MutationLimiters): RequestHandler {
  return (req, _res, next) => {
    const p = req.principal;
    if (!p || p.role === 'admin' || !MUTATING.has(req.method)) return next();
    const key = `user:${p.userId}`;
    // Both windows count every attempt, so a refused call is not free to repeat.
    const burst = limiters.burst.hit(key);
    const sustained = limiters.sustained.hit(key);
    if (burst.allowed && sustained.allowed) return next();
    const retryAfterSeconds = Math.max(burst.retryAfterSeconds, sustained.retryAfterSeconds, 1);
    next(new DomainError('RATE_LIMITED', 'too many changes; slow down', { retryAfterSeconds }));
  };
}
