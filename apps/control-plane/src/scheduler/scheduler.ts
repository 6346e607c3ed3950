// createScheduler: maps (fleet view, request, rng) to a plan. Pure: it reads the view, draws from
// the rng it is given and returns a new plan; applying the plan is the fleet index's separate job.
import { DomainError, type FieldProblem } from '../domain/errors';
import { APP_CHAIN, BUILD_CHAIN, type Chain } from './chains';
import { explainRegion, formatFailure, ReasonTally } from './explain';
import { DEFAULT_FAILURE_PENALTY_WINDOW_MS } from './failure-penalty';
import { randomIndex } from './prng';
import { candidateLimit, PendingPlacements, selectNode } from './select';
import type {
  Ask,
  BuildRequest,
  FleetView,
  NodeView,
  Placement,
  PlacementFailure,
  PlacementPlan,
  PlacementPolicy,
  PlacementRequest,
  Plan,
  ReasonCount,
  RegionView,
  Resources,
  Rng,
  WorkKind,
} from './types';

export interface SchedulerOptions {
  /** how long a failure of an app on a node penalizes that node for the app; default 15 min */
  failurePenaltyWindowMs?: number;
  /** builds go to nodes with this label when the region has any; default `builder` */
  builderLabel?: string;
  /** rank every feasible node instead of about log2 N: the best-fit baseline for benchmarks */
  fullScan?: boolean;
}

export interface Scheduler {
  /** Places `request.replicas` replicas, all or none. */
  place(fleet: FleetView, request: PlacementRequest, rng: Rng): Plan;
  /** Places one build on a builder node of the region with a free build slot. */
  placeBuild(fleet: FleetView, request: BuildRequest, rng: Rng): Plan;
}

export const MAX_REPLICAS_PER_PLAN = 1000;

const NO_LABELS: readonly string[] = [];

export function createScheduler(options: SchedulerOptions = {}): Scheduler {
  const failurePenaltyWindowMs = options.failurePenaltyWindowMs ?? DEFAULT_FAILURE_PENALTY_WINDOW_MS;
  const builderLabel = options.builderLabel ?? 'builder';
  const fullScan = options.fullScan ?? false;

  function compile(fleet: FleetView, kind: WorkKind, appId: string, region: string, resources: Resources, labels: readonly string[], policy: PlacementPolicy): Ask {
    return {
      kind,
      appId,
      region,
      // A copy: the plan carries it, and must not change if the caller reuses its request.
      resources: { cpuMillicores: resources.cpuMillicores, memoryMb: resources.memoryMb, diskMb: resources.diskMb },
      labels,
      missingLabelReasons: labels.length === 0 ? NO_LABELS : labels.map((l) => `missing label ${l}`),
      labelBits: labels.length === 0 ? NO_BITS : bitsOf(fleet, labels),
      policy,
      now: fleet.now,
      failurePenaltyWindowMs,
    };
  }

  function fail(ask: Ask, buildId: string | undefined, requested: number, replica: number, nodesInRegion: number, explained: Explained): PlacementFailure {
    const message = formatFailure({ region: ask.region, feasible: explained.feasible, nodesInRegion, reasons: explained.reasons, replica, requested });
    return {
      ok: false,
      kind: ask.kind,
      appId: ask.appId,
      ...(buildId === undefined ? {} : { buildId }),
      region: ask.region,
      requested,
      placedBeforeFailure: replica,
      nodesInRegion,
      reasons: explained.reasons,
      message,
    };
  }

  function decide(region: RegionView | undefined, ask: Ask, chain: Chain, requested: number, rng: Rng, buildId: string | undefined): Plan {
    if (region === undefined || region.nodes.length === 0) return fail(ask, buildId, requested, 0, 0, { feasible: 0, reasons: [] });
    const source = scanSource(region, ask.labels);
    const limit = fullScan ? Number.POSITIVE_INFINITY : candidateLimit(source.length);
    const maxSkip = ask.policy === 'spread' ? limit : 0;
    const recent = fullScan ? NO_NODES : region.recent;
    const pending = new PendingPlacements();
    const tally = new ReasonTally();
    const placements: Placement[] = [];
    const nodes = region.nodes;
    const cpuSlots = region.cpuAtLeast(ask.resources.cpuMillicores);
    const memorySlots = region.memoryAtLeast(ask.resources.memoryMb);
    const labelSlots = region.withLabels(ask.labels);
    // The start is drawn over the rarest label's nodes, as a scan of that list would, and the
    // scan then goes by region slot from that node on: the list keeps the region's order, so the
    // nodes met are the same, in the same order.
    const first = randomIndex(rng, source.length);
    let start = source === nodes || source.length === 0 ? first : source[first]!.slot;
    let examined = 0;

    for (let replica = 0; replica < requested; replica++) {
      const selection = selectNode({ chain, ask, nodes, cpuSlots, memorySlots, labelSlots, recent, pending, start, limit, maxSkip, tally });
      examined += selection.examined;
      const node = selection.node;
      if (node === undefined) {
        // All or nothing: a half-placed app serves less than the customer pays for, and the
        // planner would have to undo it. The reasons describe the fleet as this plan left it.
        const explained = explainRegion(chain, region, ask, pending);
        return fail(ask, buildId, requested, replica, region.nodes.length, explained);
      }
      placements.push({ nodeId: node.id, replica, score: selection.score, scores: chain.breakdown(node, ask, pending.countOn(node)) });
      // The last replica needs no record: nothing after it could be double-booked.
      if (replica + 1 < requested) pending.add(node);
      start = selection.next;
    }
    const plan: PlacementPlan = { ok: true, kind: ask.kind, appId: ask.appId, region: ask.region, resources: ask.resources, placements, examined, rejected: tally.toCounts() };
    if (buildId !== undefined) plan.buildId = buildId;
    return plan;
  }

  return {
    place(fleet, request, rng) {
      validate(request.appId, request.region, request.resources, request.replicas);
      const region = fleet.region(request.region);
      // The view's own name string, so the region check compares pointers.
      const regionName = region?.name ?? request.region;
      const ask = compile(fleet, 'app', request.appId, regionName, request.resources, request.labels ?? NO_LABELS, request.policy ?? 'spread');
      return decide(region, ask, APP_CHAIN, request.replicas, rng, undefined);
    },

    placeBuild(fleet, request, rng) {
      validate(request.appId, request.region, request.limits, 1);
      const region = fleet.region(request.region);
      // Builders are opt-in per region: once an operator labels one node `builder`, builds stay
      // on builders (even when those are busy) rather than landing on app nodes.
      const hasBuilders = (region?.withLabel(builderLabel).length ?? 0) > 0;
      const regionName = region?.name ?? request.region;
      const ask = compile(fleet, 'build', request.appId, regionName, request.limits, hasBuilders ? [builderLabel] : NO_LABELS, 'pack');
      return decide(region, ask, BUILD_CHAIN, 1, rng, request.buildId);
    },
  };
}

interface Explained {
  feasible: number;
  reasons: ReasonCount[];
}

const NO_NODES: readonly NodeView[] = [];
const NO_BITS: readonly number[] = [];

function bitsOf(fleet: FleetView, labels: readonly string[]): number[] | undefined {
  const bits: number[] = [];
  for (const label of labels) {
    const bit = fleet.labelBit(label);
    if (bit === undefined) return undefined;
    bits.push(bit);
  }
  return bits;
}

/**
 * The rarest requested label's list: every feasible node is in it. Its length sets the cap, and
 * the scan's random start is drawn over it, so a rare label's nodes share the load evenly.
 */
function scanSource(region: RegionView, labels: readonly string[]): readonly NodeView[] {
  let source = region.nodes;
  for (const label of labels) {
    const withLabel = region.withLabel(label);
    if (withLabel.length < source.length) source = withLabel;
  }
  return source;
}

function validate(appId: string, region: string, resources: Resources, replicas: number): void {
  const problems: FieldProblem[] = [];
  if (appId.length === 0) problems.push({ path: 'appId', message: 'must not be empty' });
  if (region.length === 0) problems.push({ path: 'region', message: 'must not be empty' });
  // Written out rather than a loop over the keys: the keyed reads showed as 5% of a decision in a
  // profile on a small fleet.
  checkAmount(problems, 'cpuMillicores', resources.cpuMillicores);
  checkAmount(problems, 'memoryMb', resources.memoryMb);
  checkAmount(problems, 'diskMb', resources.diskMb);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS_PER_PLAN) {
    problems.push({ path: 'replicas', message: `must be an integer from 1 to ${MAX_REPLICAS_PER_PLAN}` });
  }
  if (problems.length > 0) throw DomainError.validation(problems);
}

function checkAmount(problems: FieldProblem[], key: keyof Resources, value: number): void {
  if (!Number.isFinite(value) || value < 0) problems.push({ path: `resources.${key}`, message: 'must be a finite number ≥ 0' });
}
