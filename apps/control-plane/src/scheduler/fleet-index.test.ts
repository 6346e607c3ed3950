import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '../domain/errors';
import { FleetIndex } from './fleet-index';
import { levelFor, levelOf, popcount } from './slot-sets';
import { fleetOf, hasBit, NOW, nodeSnapshot, res } from './test-fleet';
import type { NodeSnapshot, PlacementPlan } from './types';

function plan(nodeIds: string[], overrides: Partial<PlacementPlan> = {}): PlacementPlan {
  return {
    ok: true,
    kind: 'app',
    appId: 'app-1',
    region: 'tashkent-1',
    resources: res(1_000, 1_024, 2_000),
    placements: nodeIds.map((nodeId, replica) => ({ nodeId, replica, score: 0, scores: {} })),
    examined: nodeIds.length,
    rejected: [],
    ...overrides,
  };
}

describe('FleetIndex', () => {
  it('indexes nodes by region and by label', () => {
    const a = nodeSnapshot({ labels: ['ssd', 'builder'] });
    const b = nodeSnapshot({ labels: ['ssd'] });
    const c = nodeSnapshot({ region: 'samarkand-1' });
    const fleet = fleetOf([a, b, c]);
    expect(fleet.nodeCount).toBe(3);
    expect(fleet.regionNames().sort()).toEqual(['samarkand-1', 'tashkent-1']);
    expect(fleet.region('tashkent-1')!.nodes.map((n) => n.id)).toEqual([a.id, b.id]);
    expect(fleet.region('tashkent-1')!.withLabel('ssd').map((n) => n.id)).toEqual([a.id, b.id]);
    expect(fleet.region('tashkent-1')!.withLabel('builder').map((n) => n.id)).toEqual([a.id]);
    expect(fleet.region('tashkent-1')!.withLabel('gpu')).toEqual([]);
    expect(fleet.region('mars-1')).toBeUndefined();
    expect(fleet.now).toBe(NOW);
  });

  it('numbers labels with bits that match the label sets', () => {
    const a = nodeSnapshot({ labels: ['ssd', 'builder'] });
    const fleet = fleetOf([a, nodeSnapshot({ labels: ['gpu'] })]);
    const node = fleet.node(a.id)!;
    expect(node.labelBits & fleet.labelBit('ssd')!).not.toBe(0);
    expect(node.labelBits & fleet.labelBit('builder')!).not.toBe(0);
    expect(node.labelBits & fleet.labelBit('gpu')!).toBe(0);
    expect(fleet.labelBit('arm')).toBeUndefined();
  });

  it('gives labels past the 30th no bit, and keeps them in the sets', () => {
    const labels = Array.from({ length: 35 }, (_, i) => `l${i}`);
    const fleet = fleetOf([nodeSnapshot({ labels })]);
    expect(fleet.labelBit('l29')).toBe(1 << 29);
    expect(fleet.labelBit('l30')).toBeUndefined();
    expect(fleet.region('tashkent-1')!.nodes[0]!.labels.has('l34')).toBe(true);
  });

  it('applies a plan: bookings, containers, replicas and the recent list', () => {
    const a = nodeSnapshot();
    const b = nodeSnapshot();
    const fleet = fleetOf([a, b]);
    fleet.apply(plan([a.id, a.id, b.id]));
    const na = fleet.node(a.id)!;
    expect([na.cpuAllocated, na.memoryAllocated, na.diskAllocated]).toEqual([2_000, 2_048, 4_000]);
    expect(na.containerCount).toBe(2);
    expect(na.replicasOf('app-1')).toBe(2);
    expect(fleet.node(b.id)!.replicasOf('app-1')).toBe(1);
    expect(fleet.region('tashkent-1')!.recent.map((n) => n.id)).toEqual([b.id, a.id]);
  });

  it('applies a build: a build slot, not a replica', () => {
    const a = nodeSnapshot();
    const fleet = fleetOf([a]);
    fleet.apply(plan([a.id], { kind: 'build', buildId: 'b-1' }));
    expect(fleet.node(a.id)!.runningBuilds).toBe(1);
    expect(fleet.node(a.id)!.replicasOf('app-1')).toBe(0);
    fleet.release({ kind: 'build', nodeId: a.id, appId: 'app-1', resources: res(1_000, 1_024, 2_000) });
    expect(fleet.node(a.id)!.runningBuilds).toBe(0);
    expect(fleet.node(a.id)!.cpuAllocated).toBe(0);
  });

  it('refuses a plan that no longer fits and changes nothing', () => {
    const a = nodeSnapshot({ capacity: res(4_000, 8_192, 100_000) });
    const b = nodeSnapshot({ capacity: res(1_500, 8_192, 100_000) });
    const fleet = fleetOf([a, b]);
    let error: unknown;
    try {
      fleet.apply(plan([a.id, b.id, b.id]));
    } catch (e) {
      error = e;
    }
    expect(isDomainError(error) && error.code).toBe('CONFLICT');
    expect(fleet.node(a.id)!.cpuAllocated).toBe(0);
    expect(fleet.node(a.id)!.containerCount).toBe(0);
    expect(() => fleet.apply(plan(['nope']))).toThrow(/not in the fleet/);
    expect(() => fleet.apply(plan([a.id], { region: 'samarkand-1' }))).toThrow(/not in region/);
  });

  it('releases allocations, never below zero', () => {
    const a = nodeSnapshot({ allocated: res(500, 500, 500), containerCount: 1, replicasByApp: { 'app-1': 1 } });
    const fleet = fleetOf([a]);
    const allocation = { kind: 'app' as const, nodeId: a.id, appId: 'app-1', resources: res(1_000, 1_000, 1_000) };
    fleet.release(allocation);
    fleet.release(allocation);
    const n = fleet.node(a.id)!;
    expect([n.cpuAllocated, n.memoryAllocated, n.diskAllocated, n.containerCount, n.replicasOf('app-1')]).toEqual([0, 0, 0, 0, 0]);
    fleet.release({ ...allocation, nodeId: 'gone' });
  });

  it('puts nodes that gained or lost work at the front of the recent list, bounded', () => {
    const nodes = Array.from({ length: 5 }, () => nodeSnapshot({ containerCount: 1, allocated: res(1_000, 1_024, 2_000) }));
    const fleet = fleetOf(nodes, {}, { recentSize: 3 });
    for (const n of nodes) fleet.apply(plan([n.id]));
    expect(fleet.region('tashkent-1')!.recent.map((n) => n.id)).toEqual([nodes[4]!.id, nodes[3]!.id, nodes[2]!.id]);
    fleet.release({ kind: 'app', nodeId: nodes[0]!.id, appId: 'app-1', resources: res(1_000, 1_024, 2_000) });
    expect(fleet.region('tashkent-1')!.recent[0]!.id).toBe(nodes[0]!.id);
  });

  it('drops a node from the recent list when it could not take one more of what it just took', () => {
    // Room for exactly two placements of 1,000 m: the first keeps the node recent, the second fills it.
    const a = nodeSnapshot({ capacity: res(2_000, 8_192, 100_000) });
    const b = nodeSnapshot();
    const fleet = fleetOf([a, b]);
    const recent = () => fleet.region('tashkent-1')!.recent.map((n) => n.id);
    fleet.apply(plan([a.id]));
    expect(recent()).toEqual([a.id]);
    fleet.apply(plan([b.id]));
    fleet.apply(plan([a.id]));
    expect(recent()).toEqual([b.id]);
    // Freed, it has room again and comes back first.
    fleet.release({ kind: 'app', nodeId: a.id, appId: 'app-1', resources: res(1_000, 1_024, 2_000) });
    expect(recent()).toEqual([a.id, b.id]);
    // A build fills the node's build slots (two by default): the second one drops it.
    const c = nodeSnapshot();
    const builds = fleetOf([c]);
    builds.apply(plan([c.id], { kind: 'build', buildId: 'b-1' }));
    expect(builds.region('tashkent-1')!.recent.map((n) => n.id)).toEqual([c.id]);
    builds.apply(plan([c.id], { kind: 'build', buildId: 'b-2' }));
    expect(builds.region('tashkent-1')!.recent).toEqual([]);
  });

  it('replaces and removes nodes, keeping the lists consistent', () => {
    const a = nodeSnapshot({ labels: ['ssd'] });
    const b = nodeSnapshot();
    const fleet = fleetOf([a, b]);
    fleet.apply(plan([a.id]));
    fleet.upsertNode({ ...a, region: 'samarkand-1', labels: ['gpu'] });
    expect(fleet.region('tashkent-1')!.nodes.map((n) => n.id)).toEqual([b.id]);
    expect(fleet.region('tashkent-1')!.withLabel('ssd')).toEqual([]);
    expect(fleet.region('tashkent-1')!.recent).toEqual([]);
    expect(fleet.region('samarkand-1')!.withLabel('gpu').map((n) => n.id)).toEqual([a.id]);
    expect(fleet.removeNode(a.id)).toBe(true);
    expect(fleet.removeNode(a.id)).toBe(false);
    expect(fleet.region('samarkand-1')).toBeUndefined();
    expect(fleet.nodeCount).toBe(1);
  });

  it('takes liveness updates and failures, and forgets old failures', () => {
    const a = nodeSnapshot();
    const fleet = new FleetIndex(NOW);
    fleet.upsertNode(a);
    fleet.updateLiveness(a.id, { status: 'draining', degraded: true, usage: res(1, 2, 3) });
    const n = fleet.node(a.id)!;
    expect([n.status, n.degraded, n.usage]).toEqual(['draining', true, res(1, 2, 3)]);
    fleet.recordFailure({ appId: 'app-1', nodeId: a.id, at: NOW - 10 });
    fleet.recordFailure({ appId: 'app-1', nodeId: a.id, at: NOW - 20 });
    expect(n.lastFailureAt('app-1')).toBe(NOW - 10);
    fleet.upsertNode({ ...a, status: 'online' });
    expect(fleet.node(a.id)!.lastFailureAt('app-1')).toBe(NOW - 10);
    fleet.forgetFailuresBefore(NOW);
    expect(fleet.node(a.id)!.lastFailureAt('app-1')).toBeUndefined();
    fleet.setNow(NOW + 1);
    expect(fleet.now).toBe(NOW + 1);
  });

  it('keeps the slot sets in step with bookings, status, labels and nodes coming and going', () => {
    const a = nodeSnapshot({ labels: ['ssd'] });
    const b = nodeSnapshot({ labels: ['ssd', 'gpu'] });
    const fleet = fleetOf([a, b]);
    const region = () => fleet.region('tashkent-1')!;
    const slots = (bits: Int32Array) => region().nodes.filter((n) => hasBit(bits, n.slot)).map((n) => n.id);
    expect(slots(region().cpuAtLeast(4_000))).toEqual([a.id, b.id]);
    fleet.apply(plan([a.id]));
    expect(slots(region().cpuAtLeast(4_000))).toEqual([b.id]);
    expect(slots(region().cpuAtLeast(3_000))).toEqual([a.id, b.id]);
    fleet.release({ kind: 'app', nodeId: a.id, appId: 'app-1', resources: res(1_000, 1_024, 2_000) });
    expect(slots(region().cpuAtLeast(4_000))).toEqual([a.id, b.id]);
    fleet.updateLiveness(b.id, { degraded: true });
    expect(slots(region().takingWork())).toEqual([a.id]);
    expect(slots(region().memoryAtLeast(1))).toEqual([a.id]);
    fleet.updateLiveness(b.id, { degraded: false, status: 'draining' });
    expect(slots(region().takingWork())).toEqual([a.id]);
    fleet.updateLiveness(b.id, { status: 'online' });
    expect(slots(region().withLabels(['ssd', 'gpu']))).toEqual([b.id]);
    // Removing the first node moves the second down a slot: every set follows.
    fleet.removeNode(a.id);
    expect(fleet.node(b.id)!.slot).toBe(0);
    expect(slots(region().withLabels(['gpu']))).toEqual([b.id]);
    expect(slots(region().withLabels(['ssd', 'gpu']))).toEqual([b.id]);
    expect([...region().withLabels([])]).toEqual([1]);
    expect(slots(region().withLabels(['arm']))).toEqual([]);
    // A node added later joins the label sets, intersections included.
    const c = nodeSnapshot({ labels: ['gpu', 'ssd'] });
    fleet.upsertNode(c);
    expect(slots(region().withLabels(['ssd', 'gpu']))).toEqual([b.id, c.id]);
  });

  it('keeps every slot set equal to the nodes it stands for, whatever happens to them', () => {
    const op = fc.oneof(
      fc.record({ type: fc.constant('apply' as const), pick: fc.nat(), cpu: fc.integer({ min: 0, max: 3_000 }), mem: fc.integer({ min: 0, max: 6_000 }) }),
      fc.record({ type: fc.constant('release' as const), pick: fc.nat(), cpu: fc.integer({ min: 0, max: 3_000 }), mem: fc.integer({ min: 0, max: 6_000 }) }),
      fc.record({ type: fc.constant('liveness' as const), pick: fc.nat(), online: fc.boolean(), degraded: fc.boolean() }),
      fc.record({ type: fc.constant('upsert' as const), pick: fc.nat(), labels: fc.subarray(['ssd', 'gpu', 'arm']), cpu: fc.integer({ min: 0, max: 8_000 }) }),
      fc.record({ type: fc.constant('remove' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.array(op, { maxLength: 60 }), (count, ops) => {
        const snaps: NodeSnapshot[] = Array.from({ length: count }, (_, i) => nodeSnapshot({ id: `n${i}`, labels: i % 3 === 0 ? ['ssd'] : [], capacity: res(1_000 * (1 + (i % 8)), 2_048 * (1 + (i % 5)), 100_000) }));
        const fleet = fleetOf(snaps);
        const ids = () => fleet.region('tashkent-1')?.nodes.map((n) => n.id) ?? [];
        for (const o of ops) {
          const present = ids();
          const id = present.length === 0 ? `n${o.pick % 100}` : present[o.pick % present.length]!;
          if (o.type === 'apply') {
            const p = plan([id], { resources: res(o.cpu, o.mem, 0) });
            try {
              fleet.apply(p);
            } catch {
              // no longer fits: nothing changes
            }
          } else if (o.type === 'release') fleet.release({ kind: 'app', nodeId: id, appId: 'app-1', resources: res(o.cpu, o.mem, 0) });
          else if (o.type === 'liveness') fleet.updateLiveness(id, { status: o.online ? 'online' : 'suspect', degraded: o.degraded });
          else if (o.type === 'upsert') fleet.upsertNode(nodeSnapshot({ id, labels: o.labels, capacity: res(o.cpu, 4_096, 100_000) }));
          else fleet.removeNode(id);
          expectSlotSetsMatch(fleet);
        }
      }),
      { numRuns: 150 },
    );
  });
});

/** Every set of the region, bit by bit, against the nodes themselves. */
function expectSlotSetsMatch(fleet: FleetIndex): void {
  const region = fleet.region('tashkent-1');
  if (region === undefined) return;
  const probes = [0, 1, 250, 999, 1_000, 2_500, 6_000];
  const labelSets = [['ssd'], ['gpu'], ['ssd', 'gpu'], ['arm', 'ssd']];
  const seen: unknown[] = [];
  const want: unknown[] = [];
  for (const [slot, node] of region.nodes.entries()) {
    const open = node.status === 'online' && !node.degraded;
    seen.push(node.slot, hasBit(region.withLabels([]), slot), hasBit(region.takingWork(), slot));
    want.push(slot, true, open);
    for (const c of probes) {
      seen.push(hasBit(region.cpuAtLeast(c), slot), hasBit(region.memoryAtLeast(c), slot));
      want.push(open && levelOf(node.cpuCapacity - node.cpuAllocated) >= levelFor(c), open && levelOf(node.memoryCapacity - node.memoryAllocated) >= levelFor(c));
    }
    for (const labels of labelSets) {
      seen.push(hasBit(region.withLabels(labels), slot));
      want.push(labels.every((l) => node.labels.has(l)));
    }
  }
  // No bit past the last node.
  seen.push(region.withLabels([]).reduce((n, w) => n + popcount(w), 0));
  want.push(region.nodes.length);
  expect(seen).toEqual(want);
}
