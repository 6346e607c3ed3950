import { describe, expect, it } from 'vitest';
import { isDomainError } from '../domain/errors';
import { createRng } from './prng';
import { createScheduler } from './scheduler';
import { fleetOf, NOW, nodeSnapshot, res } from './test-fleet';
import type { Plan, PlacementFailure, PlacementPlan, PlacementRequest } from './types';

const scheduler = createScheduler();
const rng = () => createRng(1);
const request = (overrides: Partial<PlacementRequest> = {}): PlacementRequest => ({
  appId: 'app-1',
  region: 'tashkent-1',
  resources: res(1_000, 1_024, 1_000),
  replicas: 1,
  ...overrides,
});

function placed(plan: Plan): PlacementPlan {
  if (!plan.ok) throw new Error(`expected a placement, got: ${plan.message}`);
  return plan;
}

function failed(plan: Plan): PlacementFailure {
  if (plan.ok) throw new Error('expected a failure');
  return plan;
}

describe('place', () => {
  it('explains a failure per node: "0 of 3 nodes in tashkent-1: 2 insufficient memory, 1 draining"', () => {
    const fleet = fleetOf([
      nodeSnapshot({ allocated: res(0, 8_000) }),
      nodeSnapshot({ allocated: res(0, 7_900) }),
      nodeSnapshot({ status: 'draining' }),
      nodeSnapshot({ region: 'samarkand-1' }),
    ]);
    const failure = failed(scheduler.place(fleet, request(), rng()));
    expect(failure.message).toBe('0 of 3 nodes in tashkent-1: 2 insufficient memory, 1 draining');
    expect(failure.nodesInRegion).toBe(3);
    expect(failure.reasons).toEqual([
      { reason: 'insufficient memory', count: 2 },
      { reason: 'draining', count: 1 },
    ]);
    expect(failure.placedBeforeFailure).toBe(0);
  });

  it('places on the only node that fits, and says why it passed over the nodes it read', () => {
    const fits = nodeSnapshot();
    // Offline and out of CPU: outside the slot sets, never read. 1,000 MB free against 1,024
    // asked is on the same level of the ladder, so that node is read, and rejected by the chain.
    const fleet = fleetOf([nodeSnapshot({ status: 'offline' }), nodeSnapshot({ allocated: res(3_500, 0) }), nodeSnapshot({ allocated: res(0, 7_192) }), fits]);
    const plan = placed(scheduler.place(fleet, request(), rng()));
    expect(plan.placements.map((p) => p.nodeId)).toEqual([fits.id]);
    expect(plan.examined).toBe(2);
    expect(plan.rejected).toEqual([{ reason: 'insufficient memory', count: 1 }]);
    expect(plan.resources).toEqual(res(1_000, 1_024, 1_000));
    expect(Object.keys(plan.placements[0]!.scores)).toEqual(['bin-pack', 'spread', 'recent-failure']);
  });

  it('never places on degraded nodes', () => {
    const fleet = fleetOf([nodeSnapshot({ degraded: true }), nodeSnapshot({ degraded: true })]);
    expect(failed(scheduler.place(fleet, request(), rng())).message).toBe('0 of 2 nodes in tashkent-1: 2 degraded');
  });

  it('requires every requested label', () => {
    const gpu = nodeSnapshot({ labels: ['gpu', 'ssd'] });
    const fleet = fleetOf([nodeSnapshot({ labels: ['ssd'] }), gpu, nodeSnapshot()]);
    expect(placed(scheduler.place(fleet, request({ labels: ['ssd', 'gpu'] }), rng())).placements[0]!.nodeId).toBe(gpu.id);
    expect(failed(scheduler.place(fleet, request({ labels: ['arm'] }), rng())).message).toBe('0 of 3 nodes in tashkent-1: 3 missing label arm');
  });

  it('fails with no reasons in a region without nodes', () => {
    const failure = failed(scheduler.place(fleetOf([nodeSnapshot()]), request({ region: 'mars-1' }), rng()));
    expect(failure).toMatchObject({ nodesInRegion: 0, reasons: [], message: '0 of 0 nodes in mars-1: the region has no nodes' });
  });

  it('packs onto the fullest node that fits', () => {
    const fuller = nodeSnapshot({ allocated: res(2_000, 4_096) });
    const fleet = fleetOf([nodeSnapshot(), fuller, nodeSnapshot({ allocated: res(1_000, 1_024) })]);
    expect(placed(scheduler.place(fleet, request({ policy: 'pack' }), rng())).placements[0]!.nodeId).toBe(fuller.id);
  });

  it('spreads replicas over distinct nodes, then packs among them', () => {
    const snaps = [nodeSnapshot(), nodeSnapshot({ allocated: res(1_000, 1_024) }), nodeSnapshot({ allocated: res(2_000, 2_048) })];
    const fleet = fleetOf(snaps);
    const plan = placed(scheduler.place(fleet, request({ replicas: 3, policy: 'spread' }), rng()));
    expect(plan.placements.map((p) => p.nodeId)).toEqual([snaps[2]!.id, snaps[1]!.id, snaps[0]!.id]);
    expect(plan.placements.map((p) => p.replica)).toEqual([0, 1, 2]);
  });

  it('spreads away from nodes already running the app', () => {
    const running = nodeSnapshot({ allocated: res(2_000, 2_048), replicasByApp: { 'app-1': 1 } });
    const empty = nodeSnapshot();
    const fleet = fleetOf([running, empty]);
    expect(placed(scheduler.place(fleet, request(), rng())).placements[0]!.nodeId).toBe(empty.id);
    expect(placed(scheduler.place(fleet, request({ policy: 'pack' }), rng())).placements[0]!.nodeId).toBe(running.id);
  });

  it('stacks replicas on one node under pack, counting what earlier replicas took', () => {
    const snaps = [nodeSnapshot({ capacity: res(3_000, 8_192, 100_000), allocated: res(0, 0) }), nodeSnapshot({ capacity: res(8_000, 8_192, 100_000) })];
    const fleet = fleetOf(snaps);
    const plan = placed(scheduler.place(fleet, request({ replicas: 4, policy: 'pack' }), rng()));
    const counts = new Map<string, number>();
    for (const p of plan.placements) counts.set(p.nodeId, (counts.get(p.nodeId) ?? 0) + 1);
    expect(counts.get(snaps[0]!.id)).toBe(3); // fills the small node to its 3,000 millicores
    expect(counts.get(snaps[1]!.id)).toBe(1);
  });

  it('shares replicas of a spread plan only when it must', () => {
    const fleet = fleetOf([nodeSnapshot(), nodeSnapshot()]);
    const plan = placed(scheduler.place(fleet, request({ replicas: 3 }), rng()));
    expect(new Set(plan.placements.map((p) => p.nodeId)).size).toBe(2);
  });

  it('places all replicas or none, saying which replica did not fit', () => {
    const fleet = fleetOf([nodeSnapshot({ capacity: res(2_000, 8_192, 100_000) }), nodeSnapshot({ status: 'disabled' })]);
    const failure = failed(scheduler.place(fleet, request({ replicas: 3 }), rng()));
    expect(failure.placedBeforeFailure).toBe(2);
    expect(failure.message).toBe('replica 3 of 3: 0 of 2 nodes in tashkent-1: 1 disabled, 1 insufficient cpu');
    expect(fleet.node(fleet.region('tashkent-1')!.nodes[0]!.id)!.cpuAllocated).toBe(0);
  });

  it('avoids a node where the app recently failed, but uses it when nothing else fits', () => {
    const failing = nodeSnapshot({ allocated: res(2_000, 2_048) });
    const other = nodeSnapshot();
    const recentFailures = [{ appId: 'app-1', nodeId: failing.id, at: NOW - 60_000 }];
    expect(placed(scheduler.place(fleetOf([failing, other], { recentFailures }), request({ policy: 'pack' }), rng())).placements[0]!.nodeId).toBe(other.id);
    expect(placed(scheduler.place(fleetOf([failing], { recentFailures }), request(), rng())).placements[0]!.nodeId).toBe(failing.id);
    const later = createScheduler({ failurePenaltyWindowMs: 30_000 });
    expect(placed(later.place(fleetOf([failing, other], { recentFailures }), request({ policy: 'pack' }), rng())).placements[0]!.nodeId).toBe(failing.id);
  });

  it('gives the same plan for the same seed, and lets equal nodes share the load across seeds', () => {
    const fleet = fleetOf(Array.from({ length: 64 }, () => nodeSnapshot()), {}, { recentSize: 0 });
    const a = placed(scheduler.place(fleet, request({ replicas: 3 }), createRng(5)));
    const b = placed(scheduler.place(fleet, request({ replicas: 3 }), createRng(5)));
    expect(b).toEqual(a);
    const chosen = new Set<string>();
    for (let seed = 0; seed < 50; seed++) chosen.add(placed(scheduler.place(fleet, request(), createRng(seed))).placements[0]!.nodeId);
    expect(chosen.size).toBeGreaterThan(20);
  });

  it('does not change the fleet it reads', () => {
    const snap = nodeSnapshot();
    const fleet = fleetOf([snap]);
    placed(scheduler.place(fleet, request({ replicas: 2 }), rng()));
    expect(fleet.node(snap.id)!.cpuAllocated).toBe(0);
    expect(fleet.region('tashkent-1')!.recent).toEqual([]);
  });

  it('examines about log2 N feasible nodes, not the region', () => {
    const fleet = fleetOf(Array.from({ length: 1_024 }, () => nodeSnapshot()), {}, { recentSize: 0 });
    expect(placed(scheduler.place(fleet, request({ policy: 'pack' }), rng())).examined).toBe(10);
    expect(placed(createScheduler({ fullScan: true }).place(fleet, request({ policy: 'pack' }), rng())).examined).toBe(1_024);
  });

  it('rejects malformed requests with every problem at once', () => {
    let error: unknown;
    try {
      scheduler.place(fleetOf([]), request({ appId: '', replicas: 0, resources: res(-1, Number.NaN, 0) }), rng());
    } catch (e) {
      error = e;
    }
    expect(isDomainError(error) && error.code).toBe('VALIDATION_FAILED');
    expect(isDomainError(error) && (error.details as { fields: unknown[] }).fields).toHaveLength(4);
  });
});

describe('placeBuild', () => {
  const build = { buildId: 'build-1', appId: 'app-1', region: 'tashkent-1', limits: res(2_000, 2_048, 10_000) };

  it('uses builder nodes when the region has any', () => {
    const builder = nodeSnapshot({ labels: ['builder'] });
    const fleet = fleetOf([nodeSnapshot(), builder, nodeSnapshot()]);
    const plan = placed(scheduler.placeBuild(fleet, build, rng()));
    expect(plan).toMatchObject({ kind: 'build', buildId: 'build-1', placements: [{ nodeId: builder.id }] });
    expect(Object.keys(plan.placements[0]!.scores)).toEqual(['build-load', 'bin-pack']);
  });

  it('uses any node when no node is labelled builder', () => {
    const fleet = fleetOf([nodeSnapshot({ status: 'offline' }), nodeSnapshot()]);
    expect(placed(scheduler.placeBuild(fleet, build, rng())).placements).toHaveLength(1);
  });

  it('keeps to builders even when they are all busy', () => {
    const fleet = fleetOf([nodeSnapshot({ labels: ['builder'], runningBuilds: 2, maxBuilds: 2 }), nodeSnapshot()]);
    expect(failed(scheduler.placeBuild(fleet, build, rng())).message).toBe('0 of 2 nodes in tashkent-1: 1 missing label builder, 1 build slots full');
  });

  it('prefers the builder running fewer builds', () => {
    const idle = nodeSnapshot({ labels: ['builder'], runningBuilds: 0, maxBuilds: 4 });
    const fleet = fleetOf([nodeSnapshot({ labels: ['builder'], runningBuilds: 1, maxBuilds: 4, allocated: res(2_000, 4_096) }), idle]);
    expect(placed(scheduler.placeBuild(fleet, build, rng())).placements[0]!.nodeId).toBe(idle.id);
  });

  it('honours a custom builder label', () => {
    const ci = nodeSnapshot({ labels: ['ci'] });
    const fleet = fleetOf([nodeSnapshot({ labels: ['builder'] }), ci]);
    expect(placed(createScheduler({ builderLabel: 'ci' }).placeBuild(fleet, build, rng())).placements[0]!.nodeId).toBe(ci.id);
  });
});
