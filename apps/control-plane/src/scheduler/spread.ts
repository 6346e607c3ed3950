import type { NodeView, Ranker } from './types';

/**
 * Per replica of the same app already on the node (running, or placed earlier in this plan).
 * Larger than bin-pack's whole range (0–1), so a shared node never beats a distinct one on fit
 * alone; among distinct nodes the tightest fit still wins.
 */
export const SPREAD_PENALTY_PER_REPLICA = 2;

export function collisions(node: NodeView, appId: string, pending: number): number {
  return node.replicasOf(appId) + pending;
}

/** Anti-affinity for replicas of one app under the `spread` policy; silent under `pack`. */
export const spreadRanker: Ranker = {
  name: 'spread',
  score: (node, ask, pending) => {
    if (ask.policy !== 'spread') return 0;
    const n = collisions(node, ask.appId, pending);
    return n === 0 ? 0 : -SPREAD_PENALTY_PER_REPLICA * n;
  },
};
