import { describe, expect, it } from 'vitest';
import { APP_CHAIN } from './chains';
import { ReasonTally } from './explain';
import { candidateLimit, PendingPlacements, selectNode, type SelectInput } from './select';
import { askFor, fleetOf, nodeSnapshot, res } from './test-fleet';
import type { NodeSnapshot, NodeView } from './types';

function region(snaps: NodeSnapshot[]) {
  return fleetOf(snaps, {}, { recentSize: 0 }).region('tashkent-1')!;
}

function input(source: readonly NodeView[], overrides: Partial<SelectInput> = {}): SelectInput {
  return {
    chain: APP_CHAIN,
    ask: askFor({ policy: 'pack' }),
    source,
    recent: [],
    pending: new PendingPlacements(),
    start: 0,
    limit: 3,
    maxSkip: 0,
    tally: new ReasonTally(),
    ...overrides,
  };
}

describe('candidateLimit', () => {
  it('is max(2, ⌈log2 n⌉)', () => {
    expect([1, 2, 4, 5, 8, 9, 1_000, 10_000].map(candidateLimit)).toEqual([2, 2, 2, 3, 3, 4, 10, 14]);
  });
});

describe('selectNode', () => {
  it('stops after the limit of feasible nodes and picks the best of those', () => {
    // Fuller nodes later in the list would be better fits, but the cap never reaches them.
    const snaps = [0, 1_000, 2_000, 3_000].map((cpu) => nodeSnapshot({ allocated: res(cpu, 0) }));
    const nodes = region(snaps).nodes;
    const selection = selectNode(input(nodes, { limit: 2 }));
    expect(selection.node!.id).toBe(snaps[1]!.id);
    expect(selection.examined).toBe(2);
    expect(selection.next).toBe(2);
  });

  it('starts at the offset it is given and wraps around', () => {
    const snaps = [0, 0, 0].map(() => nodeSnapshot());
    const nodes = region(snaps).nodes;
    const selection = selectNode(input(nodes, { start: 2, limit: 2 }));
    expect(selection.node!.id).toBe(snaps[2]!.id); // equal scores: the first seen wins
    expect(selection.next).toBe(1);
  });

  it('records why nodes were passed over and does not count them toward the limit', () => {
    const snaps = [nodeSnapshot({ status: 'draining' }), nodeSnapshot({ allocated: res(4_000, 0) }), nodeSnapshot()];
    const tally = new ReasonTally();
    const selection = selectNode(input(region(snaps).nodes, { limit: 1, tally }));
    expect(selection.node!.id).toBe(snaps[2]!.id);
    expect(tally.toCounts()).toEqual([
      { reason: 'draining', count: 1 },
      { reason: 'insufficient cpu', count: 1 },
    ]);
  });

  it('returns no node when none is feasible', () => {
    const selection = selectNode(input(region([nodeSnapshot({ status: 'offline' })]).nodes));
    expect(selection.node).toBeUndefined();
  });

  it('under spread, passes over nodes running the app without using up the limit', () => {
    const busy = nodeSnapshot({ allocated: res(3_000, 0), replicasByApp: { 'app-1': 1 } });
    const free = nodeSnapshot();
    const nodes = region([busy, free]).nodes;
    const ask = askFor({ policy: 'spread' });
    expect(selectNode(input(nodes, { ask, limit: 1, maxSkip: 0 })).node!.id).toBe(busy.id);
    expect(selectNode(input(nodes, { ask, limit: 1, maxSkip: 1 })).node!.id).toBe(free.id);
  });

  it('ranks the recent nodes, newest first, until half the limit of them are feasible', () => {
    // Full, then three feasible ones, the last the tightest fit: with a limit of 4, two feasible
    // recent nodes are ranked and the third is never reached.
    const snaps = [4_000, 1_000, 2_000, 3_000].map((cpu) => nodeSnapshot({ allocated: res(cpu, 0) }));
    const nodes = region(snaps).nodes;
    const tally = new ReasonTally();
    const selection = selectNode(input([], { limit: 4, recent: nodes, tally }));
    expect(selection.examined).toBe(3);
    expect(selection.node!.id).toBe(snaps[2]!.id);
    expect(tally.toCounts()).toEqual([{ reason: 'insufficient cpu', count: 1 }]);
  });

  it('always ranks a recent node and the nodes this plan already chose', () => {
    const snaps = [nodeSnapshot(), nodeSnapshot(), nodeSnapshot({ allocated: res(2_000, 0) })];
    const nodes = region(snaps).nodes;
    expect(selectNode(input(nodes, { limit: 1, recent: [nodes[2]!] })).node!.id).toBe(snaps[2]!.id);
    const pending = new PendingPlacements();
    pending.add(nodes[2]!);
    expect(selectNode(input(nodes, { limit: 1, pending })).node!.id).toBe(snaps[2]!.id);
  });
});
