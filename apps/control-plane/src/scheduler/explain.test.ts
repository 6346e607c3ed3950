import { describe, expect, it } from 'vitest';
import { ReasonTally, formatFailure } from './explain';

describe('formatFailure', () => {
  it('renders the operator line', () => {
    expect(
      formatFailure({
        region: 'tashkent-1',
        feasible: 0,
        nodesInRegion: 3,
        reasons: [
          { reason: 'insufficient memory', count: 2 },
          { reason: 'draining', count: 1 },
        ],
        replica: 0,
        requested: 1,
      }),
    ).toBe('0 of 3 nodes in tashkent-1: 2 insufficient memory, 1 draining');
  });

  it('names the replica that did not fit in a multi-replica plan', () => {
    expect(
      formatFailure({ region: 'tashkent-1', feasible: 0, nodesInRegion: 2, reasons: [{ reason: 'insufficient cpu', count: 2 }], replica: 2, requested: 3 }),
    ).toBe('replica 3 of 3: 0 of 2 nodes in tashkent-1: 2 insufficient cpu');
  });

  it('says so when the region has no nodes', () => {
    expect(formatFailure({ region: 'mars-1', feasible: 0, nodesInRegion: 0, reasons: [], replica: 0, requested: 1 })).toBe(
      '0 of 0 nodes in mars-1: the region has no nodes',
    );
  });
});

describe('ReasonTally', () => {
  it('orders by count, then by chain order, then by name', () => {
    const tally = new ReasonTally();
    for (const r of ['insufficient memory', 'draining', 'missing label ssd', 'insufficient memory', 'missing label gpu', 'degraded']) tally.add(r);
    expect(tally.total).toBe(6);
    expect(tally.toCounts()).toEqual([
      { reason: 'insufficient memory', count: 2 },
      { reason: 'draining', count: 1 },
      { reason: 'missing label gpu', count: 1 },
      { reason: 'missing label ssd', count: 1 },
      { reason: 'degraded', count: 1 },
    ]);
  });
});
