// Properties over random fleets and request streams (fast-check, seeded PRNG):
// never an overcommit, never outside the region or on a node that is not online and healthy,
// every failure explains every node of its region, the same seed gives the same plan, the
// capped scan fails only when a full scan fails too, and the slot sets change no plan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetIndex } from './fleet-index';
import { createRng } from './prng';
import { createScheduler } from './scheduler';
import { NOW, res, withoutSlotSets } from './test-fleet';
import type { NodeSnapshot, Plan, PlacementPlan, Resources } from './types';

const REGIONS = ['tashkent-1', 'samarkand-1'];
const LABELS = ['ssd', 'gpu', 'builder'];
const APPS = ['a', 'b', 'c', 'd'];

const resourcesArb = fc.record({
  cpuMillicores: fc.integer({ min: 0, max: 8_000 }),
  memoryMb: fc.integer({ min: 0, max: 16_384 }),
  diskMb: fc.integer({ min: 0, max: 50_000 }),
});

const nodeArb = fc
  .record({
    region: fc.constantFrom(...REGIONS),
    labels: fc.subarray(LABELS),
    status: fc.constantFrom('online', 'online', 'online', 'online', 'suspect', 'offline', 'draining', 'disabled'),
    degraded: fc.boolean(),
    capacity: resourcesArb,
    // Up to 110% of capacity: a snapshot may already be overbooked by reservations.
    used: fc.record({ cpu: fc.double({ min: 0, max: 1.1, noNaN: true }), mem: fc.double({ min: 0, max: 1.1, noNaN: true }), disk: fc.double({ min: 0, max: 1.1, noNaN: true }) }),
    maxContainers: fc.integer({ min: 0, max: 12 }),
    containerCount: fc.integer({ min: 0, max: 12 }),
    replicas: fc.dictionary(fc.constantFrom(...APPS), fc.integer({ min: 0, max: 3 })),
    runningBuilds: fc.integer({ min: 0, max: 3 }),
    maxBuilds: fc.integer({ min: 0, max: 3 }),
  })
  .map((n) => ({
    region: n.region,
    labels: n.labels,
    status: n.status,
    degraded: n.degraded,
    capacity: n.capacity,
    allocated: {
      cpuMillicores: Math.floor(n.capacity.cpuMillicores * n.used.cpu),
      memoryMb: Math.floor(n.capacity.memoryMb * n.used.mem),
      diskMb: Math.floor(n.capacity.diskMb * n.used.disk),
    },
    usage: res(0, 0, 0),
    maxContainers: n.maxContainers,
    containerCount: n.containerCount,
    replicasByApp: n.replicas,
    runningBuilds: n.runningBuilds,
    maxBuilds: n.maxBuilds,
  }));

const smallResources = fc.record({
  cpuMillicores: fc.integer({ min: 0, max: 3_000 }),
  memoryMb: fc.integer({ min: 0, max: 6_000 }),
  diskMb: fc.integer({ min: 0, max: 20_000 }),
});

const eventArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('place' as const),
      appId: fc.constantFrom(...APPS),
      region: fc.constantFrom(...REGIONS, 'mars-1'),
      resources: smallResources,
      replicas: fc.integer({ min: 1, max: 5 }),
      labels: fc.subarray(LABELS, { maxLength: 2 }),
      policy: fc.constantFrom('spread' as const, 'pack' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('build' as const), appId: fc.constantFrom(...APPS), region: fc.constantFrom(...REGIONS), limits: smallResources }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('release' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('liveness' as const),
      pick: fc.nat(),
      status: fc.constantFrom('online' as const, 'suspect' as const, 'offline' as const, 'draining' as const, 'disabled' as const),
      degraded: fc.boolean(),
    }),
  },
);

interface Booked {
  cpu: number;
  mem: number;
  disk: number;
  containers: number;
  builds: number;
}

/** Our own ledger of what is booked where, kept apart from the index under test. */
class Ledger {
  readonly booked = new Map<string, Booked>();
  readonly live: Array<{ kind: 'app' | 'build'; nodeId: string; appId: string; resources: Resources }> = [];

  constructor(readonly nodes: NodeSnapshot[]) {
    for (const n of nodes) {
      this.booked.set(n.id, {
        cpu: n.allocated.cpuMillicores,
        mem: n.allocated.memoryMb,
        disk: n.allocated.diskMb,
        containers: n.containerCount,
        builds: n.runningBuilds ?? 0,
      });
    }
  }

  book(plan: PlacementPlan, sign: 1 | -1 = 1): void {
    for (const p of plan.placements) {
      const b = this.booked.get(p.nodeId)!;
      b.cpu += sign * plan.resources.cpuMillicores;
      b.mem += sign * plan.resources.memoryMb;
      b.disk += sign * plan.resources.diskMb;
      b.containers += sign;
      if (plan.kind === 'build') b.builds += sign;
      if (sign === 1) this.live.push({ kind: plan.kind, nodeId: p.nodeId, appId: plan.appId, resources: plan.resources });
    }
  }
}

function checkPlan(plan: Plan, fleet: FleetIndex, ledger: Ledger, region: string, labels: readonly string[]): void {
  const inRegion = ledger.nodes.filter((n) => n.region === region).length;
  if (!plan.ok) {
    expect(plan.nodesInRegion).toBe(inRegion);
    expect(plan.reasons.reduce((s, r) => s + r.count, 0)).toBe(inRegion);
    for (const r of plan.reasons) expect(r.count).toBeGreaterThan(0);
    expect(plan.message).toContain(`0 of ${inRegion} nodes in ${region}: `);
    return;
  }
  expect(plan.region).toBe(region);
  // Before booking: what each node receives, against our ledger and the node as it was seen.
  const counts = new Map<string, number>();
  for (const p of plan.placements) counts.set(p.nodeId, (counts.get(p.nodeId) ?? 0) + 1);
  for (const [nodeId, n] of counts) {
    const node = fleet.node(nodeId)!;
    const snap = ledger.nodes.find((s) => s.id === nodeId)!;
    expect(node.region).toBe(region);
    expect(node.status).toBe('online');
    expect(node.degraded).toBe(false);
    for (const l of labels) expect(node.labels.has(l)).toBe(true);
    const b = ledger.booked.get(nodeId)!;
    expect(b.cpu + n * plan.resources.cpuMillicores).toBeLessThanOrEqual(snap.capacity.cpuMillicores);
    expect(b.mem + n * plan.resources.memoryMb).toBeLessThanOrEqual(snap.capacity.memoryMb);
    expect(b.disk + n * plan.resources.diskMb).toBeLessThanOrEqual(snap.capacity.diskMb);
    expect(b.containers + n).toBeLessThanOrEqual(snap.maxContainers);
    if (plan.kind === 'build') expect(b.builds + n).toBeLessThanOrEqual(snap.maxBuilds ?? 2);
  }
}

describe('scheduler properties', () => {
  const capped = createScheduler();
  const full = createScheduler({ fullScan: true });

  it('never overcommits, never leaves the region or an online healthy node, explains every failure, repeats itself per seed', () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { maxLength: 40 }), fc.array(eventArb, { minLength: 1, maxLength: 40 }), fc.integer(), (nodeSpecs, events, seed) => {
        const nodes: NodeSnapshot[] = nodeSpecs.map((n, i) => ({ ...n, id: `n${i}` }));
        const fleet = FleetIndex.fromSnapshot({ now: NOW, nodes });
        const ledger = new Ledger(nodes);
        events.forEach((event, i) => {
          const rngSeed = seed + i;
          if (event.type === 'release') {
            if (ledger.live.length === 0) return;
            const [a] = ledger.live.splice(event.pick % ledger.live.length, 1);
            fleet.release(a!);
            ledger.book({ ok: true, kind: a!.kind, appId: a!.appId, region: '', resources: a!.resources, placements: [{ nodeId: a!.nodeId, replica: 0, score: 0, scores: {} }], examined: 0, rejected: [] }, -1);
            return;
          }
          if (event.type === 'liveness') {
            if (nodes.length === 0) return;
            fleet.updateLiveness(nodes[event.pick % nodes.length]!.id, { status: event.status, degraded: event.degraded });
            return;
          }
          let plan: Plan;
          let again: Plan;
          let baseline: Plan;
          let unsifted: Plan;
          let labels: readonly string[];
          if (event.type === 'place') {
            const { type: _type, ...request } = event;
            plan = capped.place(fleet, request, createRng(rngSeed));
            again = capped.place(fleet, request, createRng(rngSeed));
            baseline = full.place(fleet, request, createRng(rngSeed));
            unsifted = capped.place(withoutSlotSets(fleet), request, createRng(rngSeed));
            labels = request.labels;
          } else {
            const request = { buildId: `b${i}`, appId: event.appId, region: event.region, limits: event.limits };
            plan = capped.placeBuild(fleet, request, createRng(rngSeed));
            again = capped.placeBuild(fleet, request, createRng(rngSeed));
            baseline = full.placeBuild(fleet, request, createRng(rngSeed));
            unsifted = capped.placeBuild(withoutSlotSets(fleet), request, createRng(rngSeed));
            labels = nodes.some((n) => n.region === event.region && n.labels.includes('builder')) ? ['builder'] : [];
          }
          expect(again).toEqual(plan);
          // The slot sets only pass over nodes that cannot fit: the same placements, scores and
          // failures (reasons included) as a scan that reads every node, in fewer reads.
          if (plan.ok && unsifted.ok) {
            expect({ ...plan, examined: 0, rejected: [] }).toEqual({ ...unsifted, examined: 0, rejected: [] });
            expect(plan.examined).toBeLessThanOrEqual(unsifted.examined);
          } else {
            expect(plan).toEqual(unsifted);
          }
          // The cap limits how many fitting nodes are ranked, never whether one is found.
          expect(plan.ok).toBe(baseline.ok);
          checkPlan(plan, fleet, ledger, event.region, labels);
          if (plan.ok) {
            fleet.apply(plan);
            ledger.book(plan);
          }
        });
        // Whatever happened, the index agrees with our ledger.
        for (const n of nodes) {
          const view = fleet.node(n.id)!;
          const b = ledger.booked.get(n.id)!;
          expect([view.cpuAllocated, view.memoryAllocated, view.diskAllocated, view.containerCount, view.runningBuilds]).toEqual([b.cpu, b.mem, b.disk, b.containers, b.builds]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('places every replica of a plan that fits, spreading over distinct nodes when there are enough', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 8 }), fc.integer(), (nodeCount, replicas, seed) => {
        const nodes: NodeSnapshot[] = Array.from({ length: nodeCount }, (_, i) => ({
          id: `n${i}`,
          region: 'tashkent-1',
          labels: [],
          status: 'online',
          degraded: false,
          capacity: res(8_000, 16_384, 100_000),
          allocated: res((i * 997) % 4_000, (i * 1_999) % 8_000, 0),
          usage: res(0, 0, 0),
          maxContainers: 50,
          containerCount: 0,
        }));
        const fleet = FleetIndex.fromSnapshot({ now: NOW, nodes });
        const plan = capped.place(fleet, { appId: 'a', region: 'tashkent-1', resources: res(500, 512, 0), replicas, policy: 'spread' }, createRng(seed));
        expect(plan.ok).toBe(true);
        if (!plan.ok) return;
        expect(plan.placements).toHaveLength(replicas);
        expect(new Set(plan.placements.map((p) => p.nodeId)).size).toBe(Math.min(replicas, nodeCount));
      }),
      { numRuns: 200 },
    );
  });
});
