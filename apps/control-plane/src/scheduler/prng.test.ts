import { describe, expect, it } from 'vitest';
import { createRng, randomIndex } from './prng';

describe('createRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
  });

  it('stays in [0, 1) and spreads evenly', () => {
    const rng = createRng(7);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng();
      if (!(x >= 0 && x < 1)) outside += 1;
      else buckets[Math.floor(x * 10)]! += 1;
    }
    expect(outside).toBe(0);
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });
});

describe('randomIndex', () => {
  it('returns an index within the bound, 0 for an empty range', () => {
    expect(randomIndex(() => 0.999999999, 10)).toBe(9);
    expect(randomIndex(() => 1, 10)).toBe(9);
    expect(randomIndex(() => 0.5, 0)).toBe(0);
  });
});
