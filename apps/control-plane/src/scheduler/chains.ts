// The two chains a decision runs: which checkers and rankers, in which order. Each chain is also
// written out as straight-line code (`reject`, `scoreAbove`, `breakdown`): a loop over an array
// of checkers makes one call site with many targets, which V8 cannot inline, and was 5–7x slower
// per node (80–110 vs 15–20 ns in a micro-benchmark). chains.test.ts keeps the written-out form
// equal to the arrays.
import { BIN_PACK_MAX_FITNESS, binPackRanker, fitnessBound } from './bin-pack';
import { buildLoadRanker } from './build-load';
import { recentFailureRanker } from './failure-penalty';
import {
  APP_CHECKERS,
  BUILD_CHECKERS,
  buildSlotChecker,
  containerChecker,
  cpuChecker,
  degradedChecker,
  diskChecker,
  labelChecker,
  memoryChecker,
  regionChecker,
  statusChecker,
} from './feasibility';
import { spreadRanker } from './spread';
import type { Ask, FeasibilityChecker, NodeView, Ranker } from './types';

export interface Chain {
  readonly checkers: readonly FeasibilityChecker[];
  readonly rankers: readonly Ranker[];
  /** the reason of the first checker the node fails, in `checkers` order; null when it passes all */
  reject(node: NodeView, ask: Ask, pending: number): string | null;
  /**
   * The sum of the rankers' scores, or -Infinity when that sum cannot exceed `floor` (the best so
   * far): then the costly part of bin-pack is skipped. With a floor of -Infinity, always the sum.
   */
  scoreAbove(node: NodeView, ask: Ask, pending: number, floor: number): number;
  /** each ranker's score by its name, in `rankers` order */
  breakdown(node: NodeView, ask: Ask, pending: number): Record<string, number>;
}

function appRejection(node: NodeView, ask: Ask, pending: number): string | null {
  return (
    statusChecker.check(node, ask, pending) ??
    regionChecker.check(node, ask, pending) ??
    labelChecker.check(node, ask, pending) ??
    degradedChecker.check(node, ask, pending) ??
    cpuChecker.check(node, ask, pending) ??
    memoryChecker.check(node, ask, pending) ??
    diskChecker.check(node, ask, pending) ??
    containerChecker.check(node, ask, pending)
  );
}

/** bin-pack's contribution can be at most this (its fitness bound over 18) */
function binPackBound(node: NodeView, ask: Ask, pending: number): number {
  return fitnessBound(node, ask.resources.cpuMillicores, ask.resources.memoryMb, pending + 1) / BIN_PACK_MAX_FITNESS;
}

export const APP_CHAIN: Chain = {
  checkers: APP_CHECKERS,
  rankers: [binPackRanker, spreadRanker, recentFailureRanker],
  reject: appRejection,
  scoreAbove: (node, ask, pending, floor) => {
    const spread = spreadRanker.score(node, ask, pending);
    const failure = recentFailureRanker.score(node, ask, pending);
    // The bound is summed in the same order as the score, and rounding is monotonic, so the
    // bound's sum is never below the score's.
    if (binPackBound(node, ask, pending) + spread + failure <= floor) return Number.NEGATIVE_INFINITY;
    return binPackRanker.score(node, ask, pending) + spread + failure;
  },
  breakdown: (node, ask, pending) => ({
    'bin-pack': binPackRanker.score(node, ask, pending),
    spread: spreadRanker.score(node, ask, pending),
    'recent-failure': recentFailureRanker.score(node, ask, pending),
  }),
};

export const BUILD_CHAIN: Chain = {
  checkers: BUILD_CHECKERS,
  rankers: [buildLoadRanker, binPackRanker],
  reject: (node, ask, pending) => appRejection(node, ask, pending) ?? buildSlotChecker.check(node, ask, pending),
  scoreAbove: (node, ask, pending, floor) => {
    const load = buildLoadRanker.score(node, ask, pending);
    if (load + binPackBound(node, ask, pending) <= floor) return Number.NEGATIVE_INFINITY;
    return load + binPackRanker.score(node, ask, pending);
  },
  breakdown: (node, ask, pending) => ({
    'build-load': buildLoadRanker.score(node, ask, pending),
    'bin-pack': binPackRanker.score(node, ask, pending),
  }),
};
