// Builders for tests: plain NodeSnapshots with sensible defaults, and fleets made from them.
import { FleetIndex } from './fleet-index';
import type { Ask, FleetView, NodeSnapshot, NodeView, Resources, Snapshot } from './types';

export const NOW = 1_700_000_000_000;

export const res = (cpuMillicores: number, memoryMb: number, diskMb = 0): Resources => ({ cpuMillicores, memoryMb, diskMb });

let counter = 0;

/** An online 4-core / 8 GB / 100 GB node in tashkent-1 with nothing on it, unless overridden. */
export function nodeSnapshot(overrides: Partial<NodeSnapshot> = {}): NodeSnapshot {
  counter += 1;
  return {
    id: `node-${counter}`,
    region: 'tashkent-1',
    labels: [],
    status: 'online',
    degraded: false,
    capacity: res(4_000, 8_192, 100_000),
    allocated: res(0, 0, 0),
    usage: res(0, 0, 0),
    maxContainers: 100,
    containerCount: 0,
    ...overrides,
  };
}

export function fleetOf(nodes: NodeSnapshot[], extra: Partial<Snapshot> = {}, options: { recentSize?: number } = {}): FleetIndex {
  return FleetIndex.fromSnapshot({ now: NOW, nodes, ...extra }, options);
}

/** An Ask as the scheduler compiles it; label bits come from `fleet` when given. */
export function askFor(overrides: Partial<Ask> = {}, fleet?: FleetView): Ask {
  const labels = overrides.labels ?? [];
  let labelBits: number[] | undefined = fleet === undefined ? undefined : [];
  for (const label of labels) {
    const bit = fleet?.labelBit(label);
    if (bit === undefined) labelBits = undefined;
    else labelBits?.push(bit);
  }
  return {
    kind: 'app',
    appId: 'app-1',
    region: 'tashkent-1',
    resources: res(500, 512, 1_000),
    missingLabelReasons: labels.map((l) => `missing label ${l}`),
    labelBits,
    policy: 'spread',
    now: NOW,
    failurePenaltyWindowMs: 15 * 60_000,
    ...overrides,
    labels,
  };
}

/** The NodeView the index keeps for a snapshot node. */
export function viewOf(fleet: FleetIndex, id: string): NodeView {
  const node = fleet.node(id);
  if (node === undefined) throw new Error(`no node ${id}`);
  return node;
}

/** Whether a slot set holds `slot`. */
export function hasBit(bits: Int32Array, slot: number): boolean {
  return (bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
}

/**
 * The same fleet with slot sets that rule nothing out: the scan lands on every slot, and a failure
 * runs the chain on every node. Plans made on it are what the scheduler decides without the sets.
 */
export function withoutSlotSets(fleet: FleetView): FleetView {
  return {
    get now() {
      return fleet.now;
    },
    labelBit: (label) => fleet.labelBit(label),
    region(name) {
      const region = fleet.region(name);
      if (region === undefined) return undefined;
      const every = region.withLabels([]);
      const none = new Int32Array(every.length);
      return {
        name: region.name,
        nodes: region.nodes,
        recent: region.recent,
        withLabel: (label) => region.withLabel(label),
        takingWork: () => none,
        cpuAtLeast: () => every,
        memoryAtLeast: () => every,
        withLabels: () => every,
      };
    },
  };
}
