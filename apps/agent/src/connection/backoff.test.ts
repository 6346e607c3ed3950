import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('grows exponentially between half and all of the bound, and caps at 60 s', () => {
    expect(backoffDelay(0, () => 0)).toBe(500);
    expect(backoffDelay(0, () => 0.999999)).toBe(999);
    expect(backoffDelay(3, () => 0)).toBe(4_000);
    expect(backoffDelay(10, () => 0.999999)).toBe(59_999);
    expect(backoffDelay(1_000, () => 0.5)).toBe(45_000);
  });

  it('spreads a fleet: different draws give different delays', () => {
    const draws = [0.1, 0.4, 0.7, 0.9].map((r) => backoffDelay(5, () => r));
    expect(new Set(draws).size).toBe(4);
  });
});
