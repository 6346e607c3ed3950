import { describe, expect, it } from 'vitest';
import { APP_CHAIN } from './chains';
import { ReasonTally } from './explain';
import { candidateLimit, PendingPlacements, selectNode, type SelectInput } from './select';
import { askFor, fleetOf, nodeSnapshot, res } from './test-fleet';
import type { NodeSnapshot, RegionView } from './types';

function region(snaps: NodeSnapshot[]): RegionView {
  return fleetOf(snaps, {}, { recentSize: 0 }).region('tashkent-1')!;
}

/** Selection over a region's nodes, with the slot sets the region gives for the ask. */
function input(view: RegionView | undefined, overrides: Partial<SelectInput> = {}): SelectInput {
  const ask = overrides.ask ?? askFor({ policy: 'pack' });
  return {
    chain: APP_CHAIN,
    ask,
    nodes: view?.nodes ?? [],
    cpuSlots: view?.cpuAtLeast(ask.resources.cpuMillicores) ?? new Int32Array(0),
    memorySlots: view?.memoryAtLeast(ask.resources.memoryMb) ?? new Int32Array(0),
    labelSlots: view?.withLabels(ask.labels) ?? new Int32Array(0),
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
    const selection = selectNode(input(region(snaps), { limit: 2 }));
    expect(selection.node!.id).toBe(snaps[1]!.id);
    expect(selection.examined).toBe(2);
    expect(selection.next).toBe(2);
  });

  it('starts at the slot it is given and wraps around', () => {
    const snaps = [0, 0, 0].map(() => nodeSnapshot());
    const selection = selectNode(input(region(snaps), { start: 2, limit: 2 }));
    expect(selection.node!.id).toBe(snaps[2]!.id); // equal scores: the first seen wins
    expect(selection.next).toBe(1);
  });

  it('starts the next replica where it started when it saw every slot without reaching the limit', () => {
    const snaps = [0, 0, 0].map(() => nodeSnapshot());
    expect(selectNode(input(region(snaps), { start: 1, limit: 5 })).next).toBe(1);
  });

  it('records why the nodes it read were passed over and does not count them toward the limit', () => {
    // The draining node and the full one are outside the slot sets: never read, never counted.
    // The one with CPU to spare but too little memory is in them, and the chain says why not.
    const snaps = [
      nodeSnapshot({ status: 'draining' }),
      nodeSnapshot({ allocated: res(4_000, 0) }),
      nodeSnapshot({ allocated: res(0, 7_900) }),
      nodeSnapshot(),
    ];
    const tally = new ReasonTally();
    const ask = askFor({ policy: 'pack', resources: res(500, 300) });
    const selection = selectNode(input(region(snaps), { ask, limit: 1, tally }));
    expect(selection.node!.id).toBe(snaps[3]!.id);
    expect(selection.examined).toBe(2);
    expect(tally.toCounts()).toEqual([{ reason: 'insufficient memory', count: 1 }]);
  });

  it('reads no node outside the slot sets', () => {
    // A view whose sets hold slot 2 only: the scan must not touch the other nodes at all.
    const view = region([nodeSnapshot(), nodeSnapshot(), nodeSnapshot()]);
    const read: number[] = [];
    const nodes = view.nodes.map(
      (node, slot) =>
        new Proxy(node, {
          get: (target, key): unknown => {
            read.push(slot);
            return Reflect.get(target, key, target) as unknown;
          },
        }),
    );
    const only2 = Int32Array.of(0b100);
    const selection = selectNode({ ...input(view), nodes, cpuSlots: only2, limit: 3 });
    expect(selection.node!.id).toBe(view.nodes[2]!.id);
    expect(new Set(read)).toEqual(new Set([2]));
  });

  it('returns no node when none is feasible', () => {
    const selection = selectNode(input(region([nodeSnapshot({ status: 'offline' })])));
    expect(selection.node).toBeUndefined();
    expect(selection.examined).toBe(0);
  });

  it('under spread, passes over nodes running the app without using up the limit', () => {
    const busy = nodeSnapshot({ allocated: res(3_000, 0), replicasByApp: { 'app-1': 1 } });
    const free = nodeSnapshot();
    const view = region([busy, free]);
    const ask = askFor({ policy: 'spread' });
    expect(selectNode(input(view, { ask, limit: 1, maxSkip: 0 })).node!.id).toBe(busy.id);
    expect(selectNode(input(view, { ask, limit: 1, maxSkip: 1 })).node!.id).toBe(free.id);
  });

  it('ranks the recent nodes that may fit, newest first, until half the limit of them are feasible', () => {
    // Full, then three feasible ones, the last the tightest fit: with a limit of 4, two feasible
    // recent nodes are ranked and the third is never reached. The full one is outside the sets.
    const snaps = [4_000, 1_000, 2_000, 3_000].map((cpu) => nodeSnapshot({ allocated: res(cpu, 0) }));
    const view = region(snaps);
    const tally = new ReasonTally();
    const selection = selectNode({ ...input(view, { limit: 4, recent: view.nodes, tally }), nodes: [] });
    expect(selection.examined).toBe(2);
    expect(selection.node!.id).toBe(snaps[2]!.id);
    expect(tally.toCounts()).toEqual([]);
  });

  it('always ranks a recent node and the nodes this plan already chose', () => {
    const snaps = [nodeSnapshot(), nodeSnapshot(), nodeSnapshot({ allocated: res(2_000, 0) })];
    const view = region(snaps);
    expect(selectNode(input(view, { limit: 1, recent: [view.nodes[2]!] })).node!.id).toBe(snaps[2]!.id);
    const pending = new PendingPlacements();
    pending.add(view.nodes[2]!);
    expect(selectNode(input(view, { limit: 1, pending })).node!.id).toBe(snaps[2]!.id);
  });
});
