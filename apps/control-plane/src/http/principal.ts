import type { Request } from 'express';
import { DomainError } from '../domain/errors';
import type { Role } from '../auth/users';

export interface Principal {
  kind: 'user' | 'api-token';
  userId: string;
  email: string;
  role: Role;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** set by the request-id middleware */
    requestId: string;
    /** set by the authenticate middleware when a valid bearer token came with the request */
    principal?: Principal;
  }
  interface Locals {
    /** what the audit middleware records for a mutating call; routes fill it in */
    audit?: { action: string; target?: string; details?: Record<string, unknown>; actorId?: string; actorType?: 'node' | 'anonymous' };
  }
}

export function requirePrincipal(req: Request): Principal {
  if (!req.principal) throw new DomainError('UNAUTHENTICATED', 'a bearer token is required');
  return req.principal;
}

export function requireAdmin(req: Request): Principal {
  const p = requirePrincipal(req);
  if (p.role !== 'admin') throw new DomainError('FORBIDDEN', 'admin role required');
  return p;
}
