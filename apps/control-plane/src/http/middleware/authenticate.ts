import type { RequestHandler } from 'express';
import type { Db } from '../../db/connect';
import { DomainError } from '../../domain/errors';
import { userForApiToken } from '../../auth/api-tokens';
import type { TokenSigner } from '../../auth/jwt';
import type { UserClaims } from '../../auth/sessions';
import { secretKind } from '../../auth/secret-tokens';
import { findUserById } from '../../auth/users';

/**
 * Reads `Authorization: Bearer …` when present: an API token (`kvt_…`) or a user access JWT.
 * A present but bad token is a 401 at once; no token leaves the request anonymous and the route
 * decides (requirePrincipal).
 */
export function authenticate(deps: { db: Db; userTokens: TokenSigner<UserClaims> }): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const m = /^Bearer ([^\s]{1,4096})$/.exec(header);
    if (!m) return next(new DomainError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"'));
    const token = m[1]!;
    try {
      if (secretKind(token) === 'kvt') {
        const user = await userForApiToken(deps.db, token);
        if (!user) throw new DomainError('UNAUTHENTICATED', 'invalid token');
        req.principal = { kind: 'api-token', userId: user.id, email: user.email, role: user.role };
      } else {
        const claims = await deps.userTokens.verify(token);
        // The role comes from the database, not the token: a demoted admin loses rights at once.
        const user = await findUserById(deps.db, claims.sub);
        if (!user) throw new DomainError('UNAUTHENTICATED', 'invalid token');
        req.principal = { kind: 'user', userId: user.id, email: user.email, role: user.role };
      }
      next();
    } catch (e) {
      next(e);
    }
  };
}
