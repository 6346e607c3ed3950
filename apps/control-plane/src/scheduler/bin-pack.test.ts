import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BIN_PACK_MAX_FITNESS, binPackFitness, binPackRanker, fitnessAfter, fitnessBound } from './bin-pack';
import { askFor, fleetOf, nodeSnapshot, res, viewOf } from './test-fleet';

describe('binPackFitness', () => {
  it('is Nomad’s 20 − (10^freeCpu + 10^freeMem)', () => {
    expect(binPackFitness(1, 1)).toBeCloseTo(0, 12); // empty after placement: 20 − 10 − 10
    expect(binPackFitness(0, 0)).toBeCloseTo(18, 12); // full: 20 − 1 − 1
    expect(binPackFitness(0.5, 0.5)).toBeCloseTo(20 - 2 * Math.sqrt(10), 12);
    expect(binPackFitness(0.25, 0.75)).toBeCloseTo(20 - 10 ** 0.25 - 10 ** 0.75, 12);
  });

  it('clamps to 0–18', () => {
    expect(binPackFitness(1.2, 1.2)).toBe(0);
    expect(binPackFitness(-0.5, -0.5)).toBe(BIN_PACK_MAX_FITNESS);
  });

  it('prefers the fuller node', () => {
    expect(binPackFitness(0.1, 0.2)).toBeGreaterThan(binPackFitness(0.3, 0.2));
  });
});

describe('binPackRanker', () => {
  it('scores fitness after the placement, over 18', () => {
    const snap = nodeSnapshot({ capacity: res(4_000, 8_000), allocated: res(1_000, 2_000) });
    const node = viewOf(fleetOf([snap]), snap.id);
    const ask = askFor({ resources: res(1_000, 2_000) });
    expect(binPackRanker.score(node, ask, 0)).toBeCloseTo(binPackFitness(0.5, 0.5) / 18, 12);
    // one earlier replica of the plan on the node: 3 of 4 taken after this one
    expect(binPackRanker.score(node, ask, 1)).toBeCloseTo(binPackFitness(0.25, 0.25) / 18, 12);
  });

  it('treats a dimension without capacity as full instead of dividing by zero', () => {
    const snap = nodeSnapshot({ capacity: res(0, 8_000), allocated: res(0, 0) });
    const node = viewOf(fleetOf([snap]), snap.id);
    expect(binPackRanker.score(node, askFor({ resources: res(0, 4_000) }), 0)).toBeCloseTo(binPackFitness(0, 0.5) / 18, 12);
  });
});

describe('fitnessBound', () => {
  it('is never below the fitness, and close to it on an almost full node', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64_000 }), fc.integer({ min: 0, max: 256_000 }), fc.integer({ min: 0, max: 64_000 }), fc.integer({ min: 0, max: 256_000 }), fc.integer({ min: 1, max: 4 }), (cpuCap, memCap, cpu, mem, count) => {
        const snap = nodeSnapshot({ capacity: res(cpuCap, memCap), allocated: res(Math.min(cpu, cpuCap), Math.min(mem, memCap)) });
        const node = viewOf(fleetOf([snap]), snap.id);
        expect(fitnessBound(node, 250, 512, count)).toBeGreaterThanOrEqual(fitnessAfter(node, 250, 512, count));
      }),
      { numRuns: 2_000 },
    );
    const snap = nodeSnapshot({ capacity: res(4_000, 8_000), allocated: res(3_900, 7_800) });
    const full = viewOf(fleetOf([snap]), snap.id);
    expect(fitnessBound(full, 100, 200, 1) - fitnessAfter(full, 100, 200, 1)).toBeLessThan(1e-6);
  });
});
