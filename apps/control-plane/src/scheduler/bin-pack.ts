import type { NodeView, Ranker } from './types';

export const BIN_PACK_MAX_FITNESS = 18;

/**
 * Nomad's ScoreFitBinPack: 20 − (10^freeCpu + 10^freeMem), clamped to 0–18, where the free
 * fractions are measured after the placement. A full node scores 18 (20 − 1 − 1), an empty one 0
 * (20 − 10 − 10): the exponent makes filling an almost full node worth much more than starting an
 * empty one, which is what keeps whole nodes free for large requests.
 */
export function binPackFitness(freeCpuFraction: number, freeMemoryFraction: number): number {
  // 10^x as e^(x·ln 10): the same value to the last bits, and several times faster than Math.pow
  // in V8, which matters at two calls per ranked node.
  const fitness = 20 - (Math.exp(freeCpuFraction * Math.LN10) + Math.exp(freeMemoryFraction * Math.LN10));
  return fitness < 0 ? 0 : fitness > BIN_PACK_MAX_FITNESS ? BIN_PACK_MAX_FITNESS : fitness;
}

function freeFraction(capacity: number, allocatedAfter: number): number {
  // A dimension with no capacity has nothing free (and nothing to divide by).
  return capacity > 0 ? 1 - allocatedAfter / capacity : 0;
}

export function fitnessAfter(node: NodeView, cpuMillicores: number, memoryMb: number, count: number): number {
  return binPackFitness(
    freeFraction(node.cpuCapacity, node.cpuAllocated + count * cpuMillicores),
    freeFraction(node.memoryCapacity, node.memoryAllocated + count * memoryMb),
  );
}

/**
 * An upper bound of fitnessAfter without its two exponentials: 10^x ≥ 1 + x·ln 10 for every x
 * (the tangent at 0 of a convex function), so 20 − 10^a − 10^b ≤ 18 − (a + b)·ln 10. Floored at
 * 0 like the fitness; no ceiling is needed, a bound may be loose. A node whose bound cannot beat
 * the best score so far is never scored in full.
 */
export function fitnessBound(node: NodeView, cpuMillicores: number, memoryMb: number, count: number): number {
  const a = freeFraction(node.cpuCapacity, node.cpuAllocated + count * cpuMillicores);
  const b = freeFraction(node.memoryCapacity, node.memoryAllocated + count * memoryMb);
  // The margin covers rounding: the bound and the fitness meet at a = b = 0, and a computed
  // bound a few ulps low must not pass over a node whose fitness is a few ulps higher.
  const bound = BIN_PACK_MAX_FITNESS - (a + b) * Math.LN10 + 1e-9;
  return bound > 0 ? bound : 0;
}

/** Contributes fitness / 18, in [0, 1]: the tightest fit wins when nothing else differs. */
export const binPackRanker: Ranker = {
  name: 'bin-pack',
  score: (node, ask, pending) =>
    fitnessAfter(node, ask.resources.cpuMillicores, ask.resources.memoryMb, pending + 1) / BIN_PACK_MAX_FITNESS,
};
