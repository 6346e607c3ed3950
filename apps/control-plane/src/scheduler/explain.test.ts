import { describe, expect, it } from 'vitest';
import { APP_CHAIN } from './chains';
import { explainRegion, ReasonTally, formatFailure } from './explain';
import { PendingPlacements } from './select';
import { askFor, fleetOf, nodeSnapshot, res } from './test-fleet';

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

describe('explainRegion', () => {
  it('gives every node the reason the chain gives it, reading only the nodes its bits cannot settle', () => {
    const snaps = [
      nodeSnapshot({ status: 'offline' }), // not taking work: read, "offline"
      nodeSnapshot({ degraded: true, labels: ['ssd'] }), // read: has no gpu, and the label comes first
      nodeSnapshot({ labels: ['gpu'] }), // counted: missing ssd
      nodeSnapshot({ labels: ['ssd'] }), // counted: missing gpu
      nodeSnapshot({ labels: ['ssd', 'gpu'], allocated: res(3_800, 0) }), // counted: outside the CPU set
      nodeSnapshot({ labels: ['ssd', 'gpu'], allocated: res(0, 8_000) }), // in the CPU set: read, memory
      nodeSnapshot({ labels: ['ssd', 'gpu'], allocated: res(2_000, 0) }), // chosen by this plan: read with its pending replica
      nodeSnapshot({ labels: ['ssd', 'gpu'] }), // fits
    ];
    const fleet = fleetOf(snaps);
    const region = fleet.region('tashkent-1')!;
    const ask = askFor({ labels: ['ssd', 'gpu'], resources: res(1_500, 512) }, fleet);
    const pending = new PendingPlacements();
    pending.add(region.nodes[6]!);
    const read: string[] = [];
    const counting = { ...APP_CHAIN, reject: (node: (typeof region.nodes)[number], a: typeof ask, p: number) => (read.push(node.id), APP_CHAIN.reject(node, a, p)) };
    const explained = explainRegion(counting, region, ask, pending);
    expect(explained).toEqual({
      feasible: 1,
      reasons: [
        { reason: 'missing label gpu', count: 2 },
        { reason: 'insufficient cpu', count: 2 },
        { reason: 'offline', count: 1 },
        { reason: 'missing label ssd', count: 1 },
        { reason: 'insufficient memory', count: 1 },
      ],
    });
    // The same as the chain over every node, with each node's pending replicas.
    const tally = new ReasonTally();
    let feasible = 0;
    for (const node of region.nodes) {
      const reason = APP_CHAIN.reject(node, ask, pending.countOn(node));
      if (reason === null) feasible += 1;
      else tally.add(reason);
    }
    expect(explained).toEqual({ feasible, reasons: tally.toCounts() });
    expect(read.sort()).toEqual([snaps[0]!, snaps[1]!, snaps[5]!, snaps[6]!, snaps[7]!].map((s) => s.id).sort());
  });
});
