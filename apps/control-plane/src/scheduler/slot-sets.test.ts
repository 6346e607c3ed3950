import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LevelSets, levelFor, levelOf, LEVELS, popcount, setBit, slotOf, wordsFor } from './slot-sets';
import { hasBit } from './test-fleet';

const amount = fc.oneof(fc.integer({ min: 0, max: 300_000 }), fc.double({ min: 0, max: 300_000, noNaN: true }), fc.constantFrom(0, 0.5, 1, 2 ** 24, 2 ** 24 + 1, 1e12));

describe('levelOf', () => {
  it('steps a quarter octave at a time', () => {
    expect([0, 0.99, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16].map(levelOf)).toEqual([0, 0, 1, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    // 250, 300 and 350 millicores share an octave's quarters; 224 starts the quarter 250 is in.
    expect(levelOf(223)).toBe(levelOf(224) - 1);
    expect(levelOf(224)).toBe(levelOf(255));
    expect(levelOf(256)).toBe(levelOf(255) + 1);
  });

  it('never decreases as the amount grows', () => {
    fc.assert(fc.property(amount, amount, (a, b) => (a <= b ? levelOf(a) <= levelOf(b) : levelOf(a) >= levelOf(b))), { numRuns: 5_000 });
  });

  it('has steps no wider than 1.25x above 4', () => {
    // The smallest amount of each level from 4 up: each is at most 1.25x the one before.
    const firsts: number[] = [];
    for (let x = 4, last = -1; x <= 1 << 20; x++) {
      if (levelOf(x) !== last) firsts.push(x);
      last = levelOf(x);
    }
    for (let i = 1; i < firsts.length; i++) expect(firsts[i]! / firsts[i - 1]!).toBeLessThanOrEqual(1.25);
  });

  it('puts everything from 2^24 up on the top level', () => {
    expect(levelOf(2 ** 24)).toBe(LEVELS - 1);
    expect(levelOf(1e12)).toBe(LEVELS - 1);
    expect(levelOf(Number.POSITIVE_INFINITY)).toBe(LEVELS - 1);
    expect(levelOf(Number.NaN)).toBe(0);
    expect(levelOf(-5)).toBe(0);
  });
});

describe('levelFor', () => {
  it('admits every node the chain would find room on (the superset)', () => {
    // The chain's test is allocated + ask ≤ capacity, in floating point; the set is read by level.
    const triple = fc.tuple(amount, amount, amount);
    fc.assert(
      fc.property(triple, ([capacity, allocated, ask]) => {
        if (!(allocated + ask <= capacity)) return;
        expect(levelOf(capacity - allocated)).toBeGreaterThanOrEqual(levelFor(ask));
      }),
      { numRuns: 20_000 },
    );
    // A rounding error below the ask: 0.1 + 0.2 ≤ 0.3 + 1e-17 holds, 0.3 − 0.1 < 0.2.
    expect(0.1 + 0.2 <= 0.30000000000000004).toBe(true);
    expect(levelOf(0.30000000000000004 - 0.1)).toBeGreaterThanOrEqual(levelFor(0.2));
    expect(levelOf(1_000 - 0.1)).toBeGreaterThanOrEqual(levelFor(999.9));
  });

  it('leaves out nodes well short of the ask', () => {
    expect(levelOf(100)).toBeLessThan(levelFor(250));
    expect(levelOf(199)).toBeLessThan(levelFor(250));
  });
});

describe('LevelSets', () => {
  it('holds a slot in every set up to its level, and moves it both ways', () => {
    const sets = new LevelSets();
    sets.grow(wordsFor(40));
    sets.move(33, -1, 5);
    expect([0, 1, 5].map((l) => hasBit(sets.atLeast(l), 33))).toEqual([true, true, true]);
    expect(hasBit(sets.atLeast(6), 33)).toBe(false);
    sets.move(33, 5, 2);
    expect([2, 3].map((l) => hasBit(sets.atLeast(l), 33))).toEqual([true, false]);
    sets.move(33, 2, -1);
    expect(hasBit(sets.atLeast(0), 33)).toBe(false);
    expect(sets.atLeast(-3)).toBe(sets.atLeast(0));
    expect([...sets.atLeast(LEVELS)]).toEqual([0, 0]);
  });

  it('keeps its bits when it grows', () => {
    const sets = new LevelSets();
    sets.grow(1);
    sets.move(7, -1, 3);
    expect(hasBit(sets.atLeast(3), 7)).toBe(true);
    sets.grow(3);
    sets.move(70, -1, 1);
    expect(hasBit(sets.atLeast(3), 7)).toBe(true);
    expect(hasBit(sets.atLeast(1), 70)).toBe(true);
    expect(sets.atLeast(1)).toHaveLength(3);
  });

  it('fills a whole region at once to the same sets as moving each slot', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1, max: LEVELS - 1 }), { maxLength: 100 }), (levels) => {
        const filled = new LevelSets();
        const moved = new LevelSets();
        filled.grow(wordsFor(levels.length));
        moved.grow(wordsFor(levels.length));
        filled.move(0, -1, LEVELS - 1); // overwritten by the fill
        filled.fill(levels);
        levels.forEach((level, slot) => moved.move(slot, -1, level));
        for (let l = 0; l <= LEVELS; l++) expect(filled.atLeast(l)).toEqual(moved.atLeast(l));
      }),
      { numRuns: 200 },
    );
  });
});

describe('slot bits', () => {
  it('counts bits and finds slots', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (word) => {
        let n = 0;
        for (let b = 0; b < 32; b++) if ((word >>> b) & 1) n += 1;
        expect(popcount(word)).toBe(n);
      }),
      { numRuns: 2_000 },
    );
    expect(popcount(-1)).toBe(32);
    expect(slotOf(2, 1 << 31)).toBe(95);
    const bits = new Int32Array(2);
    setBit(bits, 31);
    setBit(bits, 32);
    expect([...bits]).toEqual([1 << 31, 1]);
  });
});
