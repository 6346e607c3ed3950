import { describe, expect, it } from 'vitest';
import { SPREAD_PENALTY_PER_REPLICA, spreadRanker } from './spread';
import { askFor, fleetOf, nodeSnapshot, viewOf } from './test-fleet';

describe('spreadRanker', () => {
  const snap = nodeSnapshot({ replicasByApp: { 'app-1': 2, 'app-2': 1 } });
  const node = viewOf(fleetOf([snap]), snap.id);

  it('penalizes each replica of the same app on the node, running or pending', () => {
    expect(spreadRanker.score(node, askFor({ appId: 'app-1', policy: 'spread' }), 0)).toBe(-2 * SPREAD_PENALTY_PER_REPLICA);
    expect(spreadRanker.score(node, askFor({ appId: 'app-1', policy: 'spread' }), 1)).toBe(-3 * SPREAD_PENALTY_PER_REPLICA);
    expect(spreadRanker.score(node, askFor({ appId: 'app-3', policy: 'spread' }), 0)).toBe(0);
  });

  it('is silent under pack', () => {
    expect(spreadRanker.score(node, askFor({ appId: 'app-1', policy: 'pack' }), 3)).toBe(0);
  });

  it('outweighs the whole bin-pack range, so a distinct node always wins on fit alone', () => {
    expect(SPREAD_PENALTY_PER_REPLICA).toBeGreaterThan(1);
  });
});
