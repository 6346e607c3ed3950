import type { Ranker } from './types';

/**
 * Per build already running on the node. Builds are short and bursty, so spreading them across
 * builders beats packing: this outweighs bin-pack's range (0–1), which only breaks ties.
 */
export const BUILD_LOAD_PENALTY_PER_BUILD = 2;

export const buildLoadRanker: Ranker = {
  name: 'build-load',
  score: (node, _ask, pending) => {
    const builds = node.runningBuilds + pending;
    return builds === 0 ? 0 : -BUILD_LOAD_PENALTY_PER_BUILD * builds;
  },
};
