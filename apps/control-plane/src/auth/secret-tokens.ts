import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer secrets (refresh tokens, API tokens, node credentials, registration tokens) are random,
 * carry a prefix naming their kind, and are stored only as SHA-256: high-entropy secrets need no
 * slow hash, and a database leak yields nothing usable.
 */
export type SecretKind = 'kvr' | 'kvt' | 'kvn' | 'kvj';

export function newSecret(kind: SecretKind): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretKind(secret: string): SecretKind | undefined {
  const m = /^(kvr|kvt|kvn|kvj)_[A-Za-z0-9_-]{43}$/.exec(secret);
  return m ? (m[1] as SecretKind) : undefined;
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
