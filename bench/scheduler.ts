// sched-decide and sched-quality (docs: ../shared/design/BENCHMARKS.md). Everything is seeded, so
// two runs see the same fleet and the same request stream; only the clock differs.
import { performance } from 'node:perf_hooks';
import { createRng, createScheduler, FleetIndex } from '../apps/control-plane/src/scheduler';
import type { NodeSnapshot, PlacementPlan, PlacementRequest, Resources, Rng, Scheduler } from '../apps/control-plane/src/scheduler';
import { report, type Benchmark } from './report';

const REGIONS = 10;
const NODES_PER_REGION = 1_000;
const APPS = 20_000;
const ALLOCATIONS = 100_000;

// Allocatable capacity of four server sizes (after the system reserve), with how common each is.
const NODE_SIZES: Array<{ weight: number; capacity: Resources }> = [
  { weight: 3, capacity: { cpuMillicores: 7_200, memoryMb: 28_800, diskMb: 450_000 } },
  { weight: 4, capacity: { cpuMillicores: 14_400, memoryMb: 57_600, diskMb: 900_000 } },
  { weight: 2, capacity: { cpuMillicores: 28_800, memoryMb: 115_200, diskMb: 1_800_000 } },
  { weight: 1, capacity: { cpuMillicores: 57_600, memoryMb: 230_400, diskMb: 3_600_000 } },
];
// Plan sizes customers pick, most of them small.
const APP_SIZES: Array<{ weight: number; resources: Resources }> = [
  { weight: 4, resources: { cpuMillicores: 250, memoryMb: 256, diskMb: 1_024 } },
  { weight: 3, resources: { cpuMillicores: 500, memoryMb: 512, diskMb: 2_048 } },
  { weight: 2, resources: { cpuMillicores: 1_000, memoryMb: 2_048, diskMb: 4_096 } },
  { weight: 1, resources: { cpuMillicores: 2_000, memoryMb: 4_096, diskMb: 10_240 } },
];
// Label constraints requests carry: most none, some a common label, a few a rare one.
const LABEL_SETS: Array<{ weight: number; labels: string[] }> = [
  { weight: 14, labels: [] },
  { weight: 4, labels: ['ssd'] },
  { weight: 1, labels: ['gpu'] },
  { weight: 1, labels: ['ssd', 'arm'] },
];

function pick<T extends { weight: number }>(rng: Rng, items: readonly T[]): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let x = rng() * total;
  for (const item of items) {
    x -= item.weight;
    if (x < 0) return item;
  }
  return items[items.length - 1]!;
}

const regionName = (r: number): string => `region-${r}`;

interface App {
  id: string;
  region: string;
  resources: Resources;
  labels: string[];
}

function makeApps(rng: Rng, regions: number): App[] {
  const apps: App[] = [];
  for (let i = 0; i < APPS; i++) {
    apps.push({ id: `app-${i}`, region: regionName(i % regions), resources: pick(rng, APP_SIZES).resources, labels: pick(rng, LABEL_SETS).labels });
  }
  return apps;
}

function makeNodes(rng: Rng, regions: number, realisticStatuses: boolean): NodeSnapshot[] {
  const nodes: NodeSnapshot[] = [];
  for (let r = 0; r < regions; r++) {
    for (let n = 0; n < NODES_PER_REGION; n++) {
      const labels: string[] = [];
      if (rng() < 0.6) labels.push('ssd');
      if (rng() < 0.1) labels.push('builder');
      if (rng() < 0.05) labels.push('gpu');
      if (rng() < 0.1) labels.push('arm');
      const x = rng();
      const status = !realisticStatuses || x < 0.96 ? 'online' : x < 0.97 ? 'suspect' : x < 0.98 ? 'draining' : x < 0.99 ? 'offline' : 'disabled';
      nodes.push({
        id: `r${r}-n${n}`,
        region: regionName(r),
        labels,
        status,
        degraded: realisticStatuses && rng() < 0.02,
        capacity: { ...pick(rng, NODE_SIZES).capacity },
        allocated: { cpuMillicores: 0, memoryMb: 0, diskMb: 0 },
        usage: { cpuMillicores: 0, memoryMb: 0, diskMb: 0 },
        maxContainers: 110,
        containerCount: 0,
      });
    }
  }
  return nodes;
}

function requestFor(rng: Rng, apps: readonly App[], policy: 'pack' | 'spread', maxReplicas: number): PlacementRequest {
  const app = apps[Math.floor(rng() * apps.length)]!;
  const replicas = maxReplicas === 1 ? 1 : 1 + Math.floor(rng() * maxReplicas);
  return { appId: app.id, region: app.region, resources: app.resources, labels: app.labels, replicas, policy };
}

/** What is running, so the churn can stop a random allocation for each one placed. */
class Running {
  private readonly nodeIds: string[] = [];
  private readonly apps: App[] = [];

  get size(): number {
    return this.nodeIds.length;
  }

  add(nodeId: string, app: App): void {
    this.nodeIds.push(nodeId);
    this.apps.push(app);
  }

  stopRandom(rng: Rng, fleet: FleetIndex): void {
    const i = Math.floor(rng() * this.nodeIds.length);
    const last = this.nodeIds.length - 1;
    const app = this.apps[i]!;
    fleet.release({ kind: 'app', nodeId: this.nodeIds[i]!, appId: app.id, resources: app.resources });
    this.nodeIds[i] = this.nodeIds[last]!;
    this.apps[i] = this.apps[last]!;
    this.nodeIds.pop();
    this.apps.pop();
  }
}

interface World {
  fleet: FleetIndex;
  apps: App[];
  appsById: Map<string, App>;
  running: Running;
}

/** The seeded fleet with ALLOCATIONS placed through the scheduler itself. */
function buildWorld(seed: number): World {
  const rng = createRng(seed);
  const apps = makeApps(rng, REGIONS);
  const appsById = new Map(apps.map((a) => [a.id, a]));
  const fleet = FleetIndex.fromSnapshot({ now: 1_700_000_000_000, nodes: makeNodes(rng, REGIONS, true) });
  const scheduler = createScheduler();
  const running = new Running();
  while (running.size < ALLOCATIONS) {
    const plan = scheduler.place(fleet, requestFor(rng, apps, 'spread', 3), rng);
    if (!plan.ok) continue;
    fleet.apply(plan);
    const app = appsById.get(plan.appId)!;
    for (const p of plan.placements) running.add(p.nodeId, app);
  }
  return { fleet, apps, appsById, running };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The planner's side of a decision: book the plan, and stop as many random allocations so the fleet stays at ALLOCATIONS. */
function book(world: World, plan: PlacementPlan, rng: Rng): void {
  world.fleet.apply(plan);
  const app = world.appsById.get(plan.appId)!;
  for (const p of plan.placements) {
    world.running.add(p.nodeId, app);
    world.running.stopRandom(rng, world.fleet);
  }
}

interface Timed {
  /** decisions per CPU-second of each trial's back-to-back batch */
  cpuRates: number[];
  /** the same batches per wall-clock second */
  wallRates: number[];
  latenciesUs: Float64Array;
  failures: number;
  examined: number;
  placements: number;
  rejected: Map<string, number>;
}

/**
 * Each trial first makes `perTrial` decisions one at a time, each timed alone, booking each plan
 * and churning between timings as the planner would (latency; the timer's ~0.05 µs stays in).
 * Then it makes `perTrial` more back to back against the fleet as it stands (the scheduler only
 * reads it), timed by the process's CPU clock: this machine is shared, and CPU time is what "on
 * one core" means; the wall-clock rate is printed beside it.
 */
function timeDecisions(world: World, scheduler: Scheduler, requests: readonly PlacementRequest[], rng: Rng, trials: number, perTrial: number): Timed {
  const out: Timed = { cpuRates: [], wallRates: [], latenciesUs: new Float64Array(trials * perTrial), failures: 0, examined: 0, placements: 0, rejected: new Map() };
  let k = 0;
  let r = 0;
  for (let trial = 0; trial < trials; trial++) {
    for (let i = 0; i < perTrial; i++, k++) {
      const request = requests[r++ % requests.length]!;
      const t = performance.now();
      const plan = scheduler.place(world.fleet, request, rng);
      out.latenciesUs[k] = (performance.now() - t) * 1000;
      if (!plan.ok) {
        out.failures += 1;
        continue;
      }
      out.examined += plan.examined;
      out.placements += plan.placements.length;
      for (const reason of plan.rejected) out.rejected.set(reason.reason, (out.rejected.get(reason.reason) ?? 0) + reason.count);
      book(world, plan, rng);
    }
    let sink = 0;
    const cpu = process.cpuUsage();
    const wall = performance.now();
    for (let i = 0; i < perTrial; i++) sink += scheduler.place(world.fleet, requests[r++ % requests.length]!, rng).ok ? 1 : 0;
    const wallS = (performance.now() - wall) / 1000;
    const used = process.cpuUsage(cpu);
    out.cpuRates.push(perTrial / ((used.user + used.system) / 1e6));
    out.wallRates.push(perTrial / wallS);
    if (sink < 0) console.log(sink); // keeps the batch observable
  }
  out.latenciesUs.sort();
  return out;
}

const TRIALS = 5;
const DECISIONS_PER_TRIAL = 120_000;

const schedDecide: Benchmark = {
  id: 'sched-decide',
  title: 'scheduler decisions/s in memory: 10,000 nodes, 10 regions, 100,000 allocations, region + labels + bin-pack, capped candidates',
  run() {
    const t0 = performance.now();
    const world = buildWorld(1);
    console.log(`fleet: ${world.fleet.nodeCount} nodes, ${world.running.size} allocations, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const scheduler = createScheduler();
    const rng = createRng(2);
    // Requests are drawn before timing so the loop measures the scheduler, not the generator.
    const requests = Array.from({ length: 100_000 }, () => requestFor(rng, world.apps, 'pack', 1));
    for (const request of requests) {
      const plan = scheduler.place(world.fleet, request, rng);
      if (plan.ok) book(world, plan, rng);
    }

    const m = timeDecisions(world, scheduler, requests, rng, TRIALS, DECISIONS_PER_TRIAL);
    const decisions = TRIALS * DECISIONS_PER_TRIAL;
    const perSecond = Math.round(median(m.cpuRates));
    const p99 = percentile(m.latenciesUs, 0.99);
    const perDecision = [...m.rejected].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${(n / decisions).toFixed(2)} ${reason}`);
    console.log(`trials, decisions per CPU-second: ${m.cpuRates.map((r) => Math.round(r)).join(', ')}; per wall-clock second: ${m.wallRates.map((r) => Math.round(r)).join(', ')}`);
    console.log(`per placement ${(m.examined / m.placements).toFixed(1)} nodes read; read and passed over, per decision: ${perDecision.join(', ')}`);
    console.log(`${m.failures} of ${decisions} found no fit (label-constrained requests whose labelled nodes are full); p50 ${percentile(m.latenciesUs, 0.5).toFixed(2)} µs, p99.9 ${percentile(m.latenciesUs, 0.999).toFixed(1)} µs`);
    report({ bench: 'sched-decide', name: 'decisions_per_s', value: perSecond, unit: '1/s', anchor: 650, anchorLabel: 'kube-scheduler pods/s per process at 5,000 nodes', higherIsBetter: true });
    report({ bench: 'sched-decide', name: 'decisions_per_vcpu_s', value: perSecond, unit: '1/s', anchor: 7.8, anchorLabel: 'Nomad C2M placements/s per vCPU', higherIsBetter: true });
    report({ bench: 'sched-decide', name: 'p99_us', value: Number(p99.toFixed(2)), unit: 'us', anchor: 50, anchorLabel: 'target p99', higherIsBetter: false });
    report({ bench: 'sched-decide', name: 'decisions_per_wall_s', value: Math.round(median(m.wallRates)), unit: '1/s' });
    console.log(`target ≥ 200,000/s and p99 ≤ 50 µs on one core: ${perSecond >= 200_000 && p99 <= 50 ? 'met' : 'NOT met'}`);

    // The costlier path, for the record: spread policy, 1–3 replicas per decision.
    const spreadRequests = Array.from({ length: 100_000 }, () => requestFor(rng, world.apps, 'spread', 3));
    const s = timeDecisions(world, scheduler, spreadRequests, rng, 1, DECISIONS_PER_TRIAL);
    console.log(`spread, 1–3 replicas: ${(s.placements / (DECISIONS_PER_TRIAL - s.failures)).toFixed(2)} placements and ${(s.examined / s.placements).toFixed(1)} nodes examined per placement`);
    report({ bench: 'sched-decide', name: 'spread_decisions_per_s', value: Math.round(s.cpuRates[0]!), unit: '1/s' });
    report({ bench: 'sched-decide', name: 'spread_p99_us', value: Number(percentile(s.latenciesUs, 0.99).toFixed(2)), unit: 'us', anchor: 50, anchorLabel: 'target p99', higherIsBetter: false });
    return Promise.resolve();
  },
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface QualityResult {
  fillNodesUsed: number;
  nodesUsed: number;
  placed: number;
  failed: number;
  overcommits: number;
}

/**
 * Runs one request stream through one scheduler on a fresh fleet: fill to `fillRounds`
 * decisions, then `churnRounds` of stop-one-place-one. Overcommits are counted from our own
 * ledger of placements, not from the index under test.
 */
function quality(scheduler: Scheduler, regions: number, fillRounds: number, churnRounds: number): QualityResult {
  const rng = createRng(7);
  const apps = makeApps(rng, regions);
  const appsById = new Map(apps.map((a) => [a.id, a]));
  const nodes = makeNodes(rng, regions, false);
  const fleet = FleetIndex.fromSnapshot({ now: 0, nodes });
  const streamRng = createRng(8);
  const decideRng = createRng(9);
  const ledger = new Map<string, Resources & { containers: number }>(nodes.map((n) => [n.id, { cpuMillicores: 0, memoryMb: 0, diskMb: 0, containers: 0 }]));
  const live: Array<{ nodeId: string; app: App }> = [];
  let placed = 0;
  let failed = 0;
  let fillNodesUsed = 0;
  const countUsed = (): number => {
    let used = 0;
    for (const l of ledger.values()) if (l.containers > 0) used += 1;
    return used;
  };
  for (let i = 0; i < fillRounds + churnRounds; i++) {
    if (i === fillRounds) fillNodesUsed = countUsed();
    if (i >= fillRounds && live.length > 0) {
      const k = Math.floor(streamRng() * live.length);
      const { nodeId, app } = live[k]!;
      live[k] = live[live.length - 1]!;
      live.pop();
      fleet.release({ kind: 'app', nodeId, appId: app.id, resources: app.resources });
      const l = ledger.get(nodeId)!;
      l.cpuMillicores -= app.resources.cpuMillicores;
      l.memoryMb -= app.resources.memoryMb;
      l.diskMb -= app.resources.diskMb;
      l.containers -= 1;
    }
    const plan = scheduler.place(fleet, requestFor(streamRng, apps, 'pack', 1), decideRng);
    if (!plan.ok) {
      failed += 1;
      continue;
    }
    fleet.apply(plan);
    for (const p of plan.placements) {
      placed += 1;
      const app = appsById.get(plan.appId)!;
      live.push({ nodeId: p.nodeId, app });
      const l = ledger.get(p.nodeId)!;
      l.cpuMillicores += app.resources.cpuMillicores;
      l.memoryMb += app.resources.memoryMb;
      l.diskMb += app.resources.diskMb;
      l.containers += 1;
    }
  }
  let overcommits = 0;
  let nodesUsed = 0;
  for (const n of nodes) {
    const l = ledger.get(n.id)!;
    if (l.containers > 0) nodesUsed += 1;
    if (l.cpuMillicores > n.capacity.cpuMillicores || l.memoryMb > n.capacity.memoryMb || l.diskMb > n.capacity.diskMb || l.containers > n.maxContainers) overcommits += 1;
  }
  return { fillNodesUsed, nodesUsed, placed, failed, overcommits };
}

// Regions are independent, so three of them (3,000 nodes) show the same packing as ten at a
// third of the cost: the full-scan baseline ranks every node of the region on every decision.
const QUALITY_REGIONS = 3;
const QUALITY_FILL = 45_000; // about half the fleet's CPU
const QUALITY_CHURN = 90_000; // then stop one, place one: two turnovers of everything running

const schedQuality: Benchmark = {
  id: 'sched-quality',
  title: 'nodes used by the capped scheduler vs a full-scan best fit on the same request stream; overcommits',
  run() {
    const t0 = performance.now();
    const capped = quality(createScheduler(), QUALITY_REGIONS, QUALITY_FILL, QUALITY_CHURN);
    const t1 = performance.now();
    const full = quality(createScheduler({ fullScan: true }), QUALITY_REGIONS, QUALITY_FILL, QUALITY_CHURN);
    const t2 = performance.now();
    console.log(
      `${QUALITY_REGIONS * NODES_PER_REGION} nodes, ${QUALITY_FILL} placements then ${QUALITY_CHURN} stop-one-place-one; ` +
        `capped: ${capped.placed} placed, ${capped.failed} found no fit, ${((t1 - t0) / 1000).toFixed(1)} s; ` +
        `full scan: ${full.placed} placed, ${full.failed} found no fit, ${((t2 - t1) / 1000).toFixed(1)} s`,
    );
    const figures = [
      { name: 'fill', capped: capped.fillNodesUsed, full: full.fillNodesUsed },
      { name: 'churn', capped: capped.nodesUsed, full: full.nodesUsed },
    ];
    for (const f of figures) {
      report({ bench: 'sched-quality', name: `${f.name}_nodes_used`, value: f.capped, unit: 'nodes', anchor: f.full, anchorLabel: 'full-scan best fit', higherIsBetter: false });
      report({ bench: 'sched-quality', name: `${f.name}_nodes_used_ratio`, value: Number((f.capped / f.full).toFixed(4)), unit: 'x', anchor: 1.03, anchorLabel: 'target: within 3% of best fit', higherIsBetter: false });
    }
    report({ bench: 'sched-quality', name: 'overcommits', value: capped.overcommits + full.overcommits, unit: 'nodes' });
    return Promise.resolve();
  },
};

export const benchmarks: Benchmark[] = [schedDecide, schedQuality];
