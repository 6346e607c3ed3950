import { describe, expect, it } from 'vitest';
import { createPrincipalCache, type ApiTokenOwner, type PrincipalLoaders } from './principal-cache';
import { hashSecret } from './secret-tokens';
import type { User } from './users';

const alice: User = { id: 'usr_a', email: 'a@example.test', role: 'customer' };
const TOKEN = 'kvt_' + 'A'.repeat(43);
const OTHER = 'kvt_' + 'B'.repeat(43);

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Loaders over a mutable "database", counting lookups. */
function fakeDb() {
  const users = new Map<string, User>([[alice.id, alice]]);
  const tokens = new Map<string, ApiTokenOwner>([
    [hashSecret(TOKEN), { ...alice, tokenId: 'tok_1' }],
    [hashSecret(OTHER), { ...alice, tokenId: 'tok_2' }],
  ]);
  const calls = { user: 0, apiToken: 0 };
  const loaders: PrincipalLoaders = {
    user: (id) => {
      calls.user += 1;
      return Promise.resolve(users.get(id));
    },
    apiToken: (hash) => {
      calls.apiToken += 1;
      return Promise.resolve(tokens.get(hash));
    },
  };
  return { users, tokens, calls, loaders };
}

describe('createPrincipalCache', () => {
  it('looks a user up once per TTL, and again after it', async () => {
    let t = 0;
    const db = fakeDb();
    const cache = createPrincipalCache(db.loaders, { ttlMs: 2_000, now: () => t });
    expect(await cache.user(alice.id)).toEqual(alice);
    expect(await cache.user(alice.id)).toEqual(alice);
    expect(db.calls.user).toBe(1);
    // a role changed in the database by another control plane shows after at most the TTL
    db.users.set(alice.id, { ...alice, role: 'admin' });
    t = 1_999;
    expect((await cache.user(alice.id))?.role).toBe('customer');
    t = 2_000;
    expect((await cache.user(alice.id))?.role).toBe('admin');
    expect(db.calls.user).toBe(2);
  });

  it('shares one lookup among concurrent requests, and caches no refusal', async () => {
    const db = fakeDb();
    const cache = createPrincipalCache(db.loaders, { now: () => 0 });
    const all = await Promise.all([cache.user(alice.id), cache.user(alice.id), cache.user(alice.id)]);
    expect(all).toEqual([alice, alice, alice]);
    expect(db.calls.user).toBe(1);
    expect(await cache.user('usr_missing')).toBeUndefined();
    expect(await cache.user('usr_missing')).toBeUndefined();
    expect(db.calls.user).toBe(3);
  });

  it('refuses a revoked API token from the next request on, while its other tokens stay valid', async () => {
    const db = fakeDb();
    const cache = createPrincipalCache(db.loaders, { ttlMs: 60_000, now: () => 0 });
    expect(await cache.apiToken(TOKEN)).toEqual(alice);
    expect(await cache.apiToken(OTHER)).toEqual(alice);
    // the route revokes in the database, then tells the cache
    db.tokens.delete(hashSecret(TOKEN));
    cache.forgetApiToken('tok_1');
    expect(await cache.apiToken(TOKEN)).toBeUndefined();
    expect(await cache.apiToken(OTHER)).toEqual(alice);
    expect(db.calls.apiToken).toBe(3);
  });

  it('does not store a lookup that started before a revocation, nor let later requests join it', async () => {
    const db = fakeDb();
    const slow = deferred<ApiTokenOwner | undefined>();
    let first = true;
    const loaders: PrincipalLoaders = {
      ...db.loaders,
      apiToken: (hash) => {
        if (first) {
          first = false;
          return slow.promise;
        }
        return db.loaders.apiToken(hash);
      },
    };
    const cache = createPrincipalCache(loaders, { ttlMs: 60_000, now: () => 0 });
    // a request reads the token row while it is still live...
    const before = cache.apiToken(TOKEN);
    // ...the token is revoked meanwhile...
    db.tokens.delete(hashSecret(TOKEN));
    cache.forgetApiToken('tok_1');
    // ...a request after the revocation does its own lookup and is refused
    expect(await cache.apiToken(TOKEN)).toBeUndefined();
    // the old read ends (it may still let its own request in: it started before the revocation)
    slow.resolve({ ...alice, tokenId: 'tok_1' });
    expect(await before).toEqual(alice);
    // but it was not remembered
    expect(await cache.apiToken(TOKEN)).toBeUndefined();
  });

  it('forgetting a user drops their user entry and their API tokens', async () => {
    const db = fakeDb();
    const cache = createPrincipalCache(db.loaders, { ttlMs: 60_000, now: () => 0 });
    await cache.user(alice.id);
    await cache.apiToken(TOKEN);
    db.users.delete(alice.id);
    db.tokens.clear();
    cache.forgetUser(alice.id);
    expect(await cache.user(alice.id)).toBeUndefined();
    expect(await cache.apiToken(TOKEN)).toBeUndefined();
  });

  it('lets a failed lookup fail for its callers and tries again next time', async () => {
    let fail = true;
    const cache = createPrincipalCache(
      { user: () => (fail ? Promise.reject(new Error('db down')) : Promise.resolve(alice)), apiToken: () => Promise.resolve(undefined) },
      { now: () => 0 },
    );
    await expect(cache.user(alice.id)).rejects.toThrow('db down');
    fail = false;
    expect(await cache.user(alice.id)).toEqual(alice);
  });
});
