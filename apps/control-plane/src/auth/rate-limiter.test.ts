import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limiter';

describe('createRateLimiter', () => {
  it('allows up to the limit per window and tells when to retry', () => {
    let now = 1_000_000;
    const rl = createRateLimiter({ limit: 2, windowMs: 10_000, now: () => now });
    expect(rl.hit('a').allowed).toBe(true);
    expect(rl.hit('a').allowed).toBe(true);
    now += 4_000;
    expect(rl.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(rl.hit('b').allowed).toBe(true);
    now += 6_000;
    expect(rl.hit('a').allowed).toBe(true);
  });

  it('keeps memory bounded under a flood of distinct keys', () => {
    const rl = createRateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) rl.hit(k);
    // 'a' was evicted, so it starts a fresh window.
    expect(rl.hit('a').allowed).toBe(true);
    expect(rl.hit('d').allowed).toBe(false);
  });
});
