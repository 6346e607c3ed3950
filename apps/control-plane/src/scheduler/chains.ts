// The two chains a decision runs: which checkers and rankers, in which order. Each chain is also
// written out as straight-line code (`reject`, `score`): a loop over an array of checkers makes
// one call site with many targets, which V8 cannot inline, and was 5–7x slower per node (80–110
// vs 15–20 ns in a micro-benchmark). chains.test.ts keeps the written-out form equal to the arrays.
import { binPackRanker } from './bin-pack';
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
  /** the sum of the rankers' scores */
  score(node: NodeView, ask: Ask, pending: number): number;
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

export const APP_CHAIN: Chain = {
  checkers: APP_CHECKERS,
  rankers: [binPackRanker, spreadRanker, recentFailureRanker],
  reject: appRejection,
  score: (node, ask, pending) =>
    binPackRanker.score(node, ask, pending) + spreadRanker.score(node, ask, pending) + recentFailureRanker.score(node, ask, pending),
};

export const BUILD_CHAIN: Chain = {
  checkers: BUILD_CHECKERS,
  rankers: [buildLoadRanker, binPackRanker],
  reject: (node, ask, pending) => appRejection(node, ask, pending) ?? buildSlotChecker.check(node, ask, pending),
  score: (node, ask, pending) => buildLoadRanker.score(node, ask, pending) + binPackRanker.score(node, ask, pending),
};
