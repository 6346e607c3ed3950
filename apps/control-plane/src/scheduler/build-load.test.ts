import { describe, expect, it } from 'vitest';
import { BUILD_LOAD_PENALTY_PER_BUILD, buildLoadRanker } from './build-load';
import { askFor, fleetOf, nodeSnapshot, viewOf } from './test-fleet';

describe('buildLoadRanker', () => {
  it('penalizes each build running on the node', () => {
    const idle = nodeSnapshot();
    const busy = nodeSnapshot({ runningBuilds: 2, maxBuilds: 4 });
    const fleet = fleetOf([idle, busy]);
    const ask = askFor({ kind: 'build' });
    expect(buildLoadRanker.score(viewOf(fleet, idle.id), ask, 0)).toBe(0);
    expect(buildLoadRanker.score(viewOf(fleet, busy.id), ask, 0)).toBe(-2 * BUILD_LOAD_PENALTY_PER_BUILD);
  });
});
