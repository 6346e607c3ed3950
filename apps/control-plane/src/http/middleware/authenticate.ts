import type { RequestHandler } from 'express';
import { DomainError } from '../../domain/errors';
import type { TokenSigner } from '../../auth/jwt';
import type { PrincipalCache } from '../../auth/principal-cache';
import type { UserClaims } from '../../auth/sessions';
import { secretKind } from '../../auth/secret-tokens';

const SCHEME = 'Bearer ';
const MAX_TOKEN = 4_096;
const SPACE = /\s/;

/** The token of `Bearer <token>` (1 to 4,096 characters, no white space), else undefined. */
export function bearerToken(header: string): string | undefined {
  if (!header.startsWith(SCHEME)) return undefined;
  const token = header.slice(SCHEME.length);
  return token.length > 0 && token.length <= MAX_TOKEN && !SPACE.test(token) ? token : undefined;
}

/**
 * Reads `Authorization: Bearer …` when present: an API token (`kvt_…`) or a user access JWT.
 * A present but bad token is a 401 at once; no token leaves the request anonymous and the route
 * decides (requirePrincipal). Who is behind a token comes through `principals` (auth/principal-cache:
 * at most a few seconds old, and dropped at once when revoked in this process).
 */
export function authenticate(deps: { principals: PrincipalCache; userTokens: TokenSigner<UserClaims> }): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const token = bearerToken(header);
    if (token === undefined) return next(new DomainError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"'));
    resolve(deps, token).then((principal) => {
      req.principal = principal;
      next();
    }, next);
  };
}

async function resolve(deps: { principals: PrincipalCache; userTokens: TokenSigner<UserClaims> }, token: string) {
  if (secretKind(token) === 'kvt') {
    const user = await deps.principals.apiToken(token);
    if (!user) throw new DomainError('UNAUTHENTICATED', 'invalid token');
    return { kind: 'api-token' as const, userId: user.id, email: user.email, role: user.role };
  }
  const claims = await deps.userTokens.verify(token);
  // The role comes from the database, not the token: a demoted admin loses rights (principal-cache bounds how soon).
  const user = await deps.principals.user(claims.sub);
  if (!user) throw new DomainError('UNAUTHENTICATED', 'invalid token');
  return { kind: 'user' as const, userId: user.id, email: user.email, role: user.role };
}
