// Who is behind a bearer token, remembered for a short while so that a busy client does not cost a
// database round trip per request. Two lookups are cached:
//
// - the user behind an access token's subject (id, email, role): the role is read from the
//   database, not the token, so a demoted admin loses rights without waiting for the token to expire;
// - the user behind an API token (by the token's SHA-256, as stored).
//
// Bounds on staleness:
// - In this process a change is seen at once: revoking an API token (`forgetApiToken`) or changing a
//   user (`forgetUser`) drops the entries, drops lookups in flight (a request that arrives after the
//   revocation never joins a lookup that started before it), and a lookup that started before the
//   change does not store its (older) answer.
// - In another control plane (several may share one database) a change made elsewhere is seen
//   after at most `ttlMs` (2 s by default): far below an access token's own lifetime (15 min by
//   default), which is already how long a logged-out session's access token stays valid, since
//   access tokens are stateless JWTs that logout does not recall.
// Only answers that let a caller in are cached; a refused token is looked up again each time.
import type { User } from './users';
import { hashSecret } from './secret-tokens';
import { createExpiringCache, type ExpiringCache } from './expiring-cache';

export const PRINCIPAL_TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

export interface ApiTokenOwner extends User {
  tokenId: string;
}

export interface PrincipalLoaders {
  user(userId: string): Promise<User | undefined>;
  /** by the token's hash; may also stamp the token's last use */
  apiToken(tokenHash: string): Promise<ApiTokenOwner | undefined>;
}

export interface PrincipalCache {
  user(userId: string): Promise<User | undefined>;
  apiToken(token: string): Promise<User | undefined>;
  /** after a change to the user (role, deletion) in this process */
  forgetUser(userId: string): void;
  /** after the token was revoked in this process */
  forgetApiToken(tokenId: string): void;
}

export function createPrincipalCache(loaders: PrincipalLoaders, opts: { ttlMs?: number; now?: () => number } = {}): PrincipalCache {
  const now = opts.now ?? Date.now;
  const ttlMs = opts.ttlMs ?? PRINCIPAL_TTL_MS;
  const users = createExpiringCache<string, User>({ max: MAX_ENTRIES, now });
  const tokens = createExpiringCache<string, ApiTokenOwner>({ max: MAX_ENTRIES, now });
  const userLookups = new Map<string, Promise<User | undefined>>();
  const tokenLookups = new Map<string, Promise<ApiTokenOwner | undefined>>();
  // Bumped by every forget: an answer read before a change is not stored after it.
  let generation = 0;

  function lookup<V>(key: string, cache: ExpiringCache<string, V>, inflight: Map<string, Promise<V | undefined>>, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = cache.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = inflight.get(key);
    if (pending) return pending;
    const startedAt = generation;
    const p = load().then(
      (value) => {
        if (inflight.get(key) === p) inflight.delete(key);
        if (value !== undefined && generation === startedAt) cache.set(key, value, now() + ttlMs);
        return value;
      },
      (err: unknown) => {
        if (inflight.get(key) === p) inflight.delete(key);
        throw err;
      },
    );
    inflight.set(key, p);
    return p;
  }

  return {
    user: (userId) => lookup(userId, users, userLookups, () => loaders.user(userId)),
    async apiToken(token) {
      const hash = hashSecret(token);
      const owner = await lookup(hash, tokens, tokenLookups, () => loaders.apiToken(hash));
      return owner && { id: owner.id, email: owner.email, role: owner.role };
    },
    forgetUser(userId) {
      generation += 1;
      users.delete(userId);
      userLookups.clear();
      tokens.deleteWhere((o) => o.id === userId);
      tokenLookups.clear();
    },
    forgetApiToken(tokenId) {
      generation += 1;
      tokens.deleteWhere((o) => o.tokenId === tokenId);
      tokenLookups.clear();
    },
  };
}
