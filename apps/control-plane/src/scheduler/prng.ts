import type { Rng } from './types';

/**
 * mulberry32: a 32-bit state generator, small and fast, good enough to pick scan offsets (not for
 * secrets). The same seed always yields the same sequence, which makes plans reproducible.
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, bound) drawn from rng; 0 when bound is 0. */
export function randomIndex(rng: Rng, bound: number): number {
  const i = Math.floor(rng() * bound);
  // Guards a caller's rng that returns exactly 1.
  return i >= bound ? Math.max(0, bound - 1) : i;
}
