import type { Ranker } from './types';

/**
 * Applied when this app failed on the node within the window (crash loop, failed health check).
 * Larger than one spread collision: a second replica beside a healthy one is worth more than
 * one on a node where the app just failed. Soft, not a filter, so a one-node region still works.
 */
export const RECENT_FAILURE_PENALTY = 4;
export const DEFAULT_FAILURE_PENALTY_WINDOW_MS = 15 * 60_000;

export const recentFailureRanker: Ranker = {
  name: 'recent-failure',
  score: (node, ask) => {
    const at = node.lastFailureAt(ask.appId);
    // A failure stamped after `now` (clock skew between writers) still counts as recent.
    return at !== undefined && ask.now - at < ask.failurePenaltyWindowMs ? -RECENT_FAILURE_PENALTY : 0;
  },
};
