import { describe, expect, it } from 'vitest';
import { RECENT_FAILURE_PENALTY, recentFailureRanker } from './failure-penalty';
import { SPREAD_PENALTY_PER_REPLICA } from './spread';
import { askFor, fleetOf, NOW, nodeSnapshot, viewOf } from './test-fleet';

describe('recentFailureRanker', () => {
  const snap = nodeSnapshot();
  const fleet = fleetOf([snap], { recentFailures: [{ appId: 'app-1', nodeId: snap.id, at: NOW - 60_000 }] });
  const node = viewOf(fleet, snap.id);

  it('penalizes a node where this app failed within the window', () => {
    expect(recentFailureRanker.score(node, askFor({ appId: 'app-1', failurePenaltyWindowMs: 120_000 }), 0)).toBe(-RECENT_FAILURE_PENALTY);
  });

  it('forgets failures older than the window and other apps’ failures', () => {
    expect(recentFailureRanker.score(node, askFor({ appId: 'app-1', failurePenaltyWindowMs: 30_000 }), 0)).toBe(0);
    expect(recentFailureRanker.score(node, askFor({ appId: 'app-2', failurePenaltyWindowMs: 120_000 }), 0)).toBe(0);
  });

  it('counts a failure stamped after now (clock skew) as recent', () => {
    const skewed = fleetOf([snap], { recentFailures: [{ appId: 'app-1', nodeId: snap.id, at: NOW + 5_000 }] });
    expect(recentFailureRanker.score(viewOf(skewed, snap.id), askFor({ appId: 'app-1' }), 0)).toBe(-RECENT_FAILURE_PENALTY);
  });

  it('weighs more than one spread collision', () => {
    expect(RECENT_FAILURE_PENALTY).toBeGreaterThan(SPREAD_PENALTY_PER_REPLICA);
  });
});
