import { describe, expect, it } from 'vitest';
import { crashDecision, DEFAULT_CRASH_POLICY as P } from './crash-policy';

const now = 1_000_000_000;

describe('crashDecision', () => {
  it.each([
    { restarts: [], exitedAgo: 1_000, expected: { kind: 'restart' } },
    { restarts: [], exitedAgo: 999, expected: { kind: 'wait', untilMs: now + 1 } },
    { restarts: [now - 10_000], exitedAgo: 1_999, expected: { kind: 'wait', untilMs: now + 1 } },
    { restarts: [now - 10_000], exitedAgo: 2_000, expected: { kind: 'restart' } },
    { restarts: [now - 20_000, now - 10_000], exitedAgo: 4_000, expected: { kind: 'restart' } },
    { restarts: [now - 30_000, now - 20_000, now - 10_000], exitedAgo: 60_000, expected: { kind: 'crash-loop', restartsInWindow: 3 } },
    { restarts: [now - 300_000, now - 20_000, now - 10_000], exitedAgo: 4_000, expected: { kind: 'restart' } },
  ])('after restarts $restarts, exited $exitedAgo ms ago: $expected.kind', ({ restarts, exitedAgo, expected }) => {
    expect(crashDecision(restarts, now - exitedAgo, now, P)).toEqual(expected);
  });

  it('caps the backoff', () => {
    const policy = { ...P, maxRestarts: 100 };
    const many = Array.from({ length: 20 }, (_, i) => now - 1_000 * (i + 1));
    expect(crashDecision(many, now, now, policy)).toEqual({ kind: 'wait', untilMs: now + P.backoffMaxMs });
  });
});
