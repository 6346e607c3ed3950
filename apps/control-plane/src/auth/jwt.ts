import { webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { DomainError } from '../domain/errors';
import { createExpiringCache } from './expiring-cache';

// One algorithm, pinned at both ends: tokens with `alg: none`, RS/HS confusion or anything else
// are refused before their claims are looked at.
const ALG = 'HS256';

export type Audience = 'user' | 'agent';

export interface TokenSigner<C extends Record<string, unknown>> {
  sign(subject: string, claims: C): Promise<{ token: string; expiresAt: Date }>;
  verify(token: string): Promise<C & { sub: string; exp: number }>;
}

/** Tokens already verified, kept until they expire: the same token under the same key verifies the same way until then. */
const VERIFIED_MAX = 10_000;

export function createTokenSigner<C extends Record<string, unknown>>(opts: {
  key: Buffer;
  issuer: string;
  audience: Audience;
  ttlSeconds: number;
  now?: () => number;
}): TokenSigner<C> {
  const now = opts.now ?? Date.now;
  const verified = createExpiringCache<string, C & { sub: string; exp: number }>({ max: VERIFIED_MAX, now });
  // Imported once: given raw bytes, jose imports the key (a WebCrypto job) on every sign and verify.
  let imported: Promise<webcrypto.CryptoKey> | undefined;
  const key = () => (imported ??= importHmacKey(opts.key));
  return {
    async sign(subject, claims) {
      const iat = Math.floor(now() / 1000);
      const exp = iat + opts.ttlSeconds;
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, typ: 'JWT' })
        .setSubject(subject)
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(await key());
      return { token, expiresAt: new Date(exp * 1000) };
    },
    async verify(token) {
      const known = verified.get(token);
      if (known) return known;
      try {
        const { payload } = await jwtVerify(token, await key(), {
          algorithms: [ALG],
          issuer: opts.issuer,
          audience: opts.audience,
          currentDate: new Date(now()),
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const claims = payload as C & { sub: string; exp: number };
        // A not-before claim (never set by sign) would make validity start later: such tokens are not remembered.
        if (claims.nbf === undefined) verified.set(token, claims, claims.exp * 1000);
        return claims;
      } catch (e) {
        const reason = e instanceof joseErrors.JWTExpired ? 'token expired' : 'invalid token';
        throw new DomainError('UNAUTHENTICATED', reason);
      }
    },
  };
}

/** The HS256 key as a non-extractable CryptoKey usable for both signing and verifying. */
function importHmacKey(raw: Buffer): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}
