// The scheduler's vocabulary: what it reads (a fleet view at one instant), what it is asked (a
// placement or a build) and what it answers (a plan, or a failure with a reason per node).
import type { Resources } from '../nodes/capacity';
import type { NodeStatus } from '../nodes/node-status';
import type { SlotBits } from './slot-sets';

export type { Resources, NodeStatus };

/** A source of uniform numbers in [0, 1). Decisions draw only from this, never Math.random(). */
export type Rng = () => number;

// ---------------------------------------------------------------------------------------------
// Input as plain data: what the control plane loads from Postgres and the hub's live state.

export interface NodeSnapshot {
  id: string;
  region: string;
  labels: readonly string[];
  status: NodeStatus;
  /** set upstream when live CPU, memory or disk usage is at or above 90% */
  degraded: boolean;
  /** what tenants may reserve (hardware less the system reserve) */
  capacity: Resources;
  /** sum of running allocations plus reservations not yet visible in heartbeats */
  allocated: Resources;
  /** live usage from the last heartbeat; informative, the fit is computed on reservations */
  usage: Resources;
  maxContainers: number;
  containerCount: number;
  /** replicas of each app on this node, for anti-affinity */
  replicasByApp?: Readonly<Record<string, number>>;
  runningBuilds?: number;
  /** builds this node may run at once; the fleet index's default when absent */
  maxBuilds?: number;
}

export interface RecentFailure {
  appId: string;
  nodeId: string;
  /** epoch milliseconds */
  at: number;
}

export interface Snapshot {
  /** epoch milliseconds; the only clock decisions see */
  now: number;
  nodes: readonly NodeSnapshot[];
  recentFailures?: readonly RecentFailure[];
}

// ---------------------------------------------------------------------------------------------
// The read-only view decisions run on. FleetIndex implements it; tests may too.

export interface NodeView {
  readonly id: string;
  readonly region: string;
  /** position in its region's `nodes`, and its bit in the region's slot sets */
  readonly slot: number;
  readonly labels: ReadonlySet<string>;
  /** one bit per label as the fleet numbers them (FleetView.labelBit); an accelerator, `labels` is the truth */
  readonly labelBits: number;
  readonly status: NodeStatus;
  readonly degraded: boolean;
  // Capacity and bookings are flat fields rather than nested Resources: with 10,000 nodes in
  // memory each node a decision examines is usually a cache miss, and a nested object would be
  // a second one.
  readonly cpuCapacity: number;
  readonly memoryCapacity: number;
  readonly diskCapacity: number;
  /** millicores booked by allocations, builds and reservations */
  readonly cpuAllocated: number;
  readonly memoryAllocated: number;
  readonly diskAllocated: number;
  readonly usage: Readonly<Resources>;
  readonly maxContainers: number;
  readonly containerCount: number;
  readonly runningBuilds: number;
  readonly maxBuilds: number;
  replicasOf(appId: string): number;
  /** the latest failure of this app on this node, epoch ms */
  lastFailureAt(appId: string): number | undefined;
}

export interface RegionView {
  readonly name: string;
  /** every node in the region, whatever its status */
  readonly nodes: readonly NodeView[];
  /** the nodes carrying this label (empty when none), in the order of `nodes` */
  withLabel(label: string): readonly NodeView[];
  // Slot sets (slot-sets.ts): bit `s & 31` of word `s >>> 5` stands for `nodes[s]`. Read-only,
  // and valid until the view next changes.
  /** the nodes that take work: online and not degraded, exactly */
  takingWork(): SlotBits;
  /**
   * The nodes that take work with about `cpuMillicores` free or more: a superset of those where
   * that much CPU fits by bookings, never a subset. A node outside it has too little CPU.
   */
  cpuAtLeast(cpuMillicores: number): SlotBits;
  /** as `cpuAtLeast`, for memory */
  memoryAtLeast(memoryMb: number): SlotBits;
  /** the nodes carrying every one of `labels`, exactly; every node when there are none */
  withLabels(labels: readonly string[]): SlotBits;
  /** nodes whose bookings changed last (placed on with room for one more of the same, or freed but not emptied), newest first, a handful at most */
  readonly recent: readonly NodeView[];
}

export interface FleetView {
  /** epoch milliseconds */
  readonly now: number;
  region(name: string): RegionView | undefined;
  /**
   * This label's bit in NodeView.labelBits, or undefined when it has none (no node carries it,
   * or it came after the 30 labels the view numbers): checks then look labels up by name.
   */
  labelBit(label: string): number | undefined;
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** `spread`: replicas of one app prefer distinct nodes, then the tightest fit; `pack`: tightest fit only. */
export type PlacementPolicy = 'spread' | 'pack';

export interface PlacementRequest {
  appId: string;
  region: string;
  /** per replica */
  resources: Resources;
  replicas: number;
  /** a node must carry every one of these */
  labels?: readonly string[];
  /** defaults to `spread` */
  policy?: PlacementPolicy;
}

export interface BuildRequest {
  buildId: string;
  appId: string;
  region: string;
  /** the build container's limits, reserved on the node while it runs */
  limits: Resources;
}

// ---------------------------------------------------------------------------------------------
// Plans.

export type WorkKind = 'app' | 'build';

export interface ReasonCount {
  reason: string;
  count: number;
}

export interface Placement {
  nodeId: string;
  /** 0-based index of the replica within this plan */
  replica: number;
  /** the sum of the rankers' contributions */
  score: number;
  /** each ranker's contribution, by ranker name */
  scores: Readonly<Record<string, number>>;
}

export interface PlacementPlan {
  ok: true;
  kind: WorkKind;
  appId: string;
  /** the build id for builds */
  buildId?: string;
  region: string;
  /** per placement */
  resources: Resources;
  placements: Placement[];
  /**
   * Nodes examined over all replicas: per replica, the recent nodes plus about log2 N feasible
   * ones. Nodes the region's slot sets rule out (not taking work, too little CPU or memory, a
   * missing label) are passed over unread and not counted.
   */
  examined: number;
  /** why examined nodes were passed over by the chain */
  rejected: ReasonCount[];
}

export interface PlacementFailure {
  ok: false;
  kind: WorkKind;
  appId: string;
  buildId?: string;
  region: string;
  requested: number;
  /** replicas that fitted before the one that did not; none of them is placed */
  placedBeforeFailure: number;
  /** every node in the region; the reason counts add up to this */
  nodesInRegion: number;
  /** first failing check per node, largest count first */
  reasons: ReasonCount[];
  /** e.g. "0 of 3 nodes in tashkent-1: 2 insufficient memory, 1 draining" */
  message: string;
}

export type Plan = PlacementPlan | PlacementFailure;

// ---------------------------------------------------------------------------------------------
// The chain.

/** A request compiled once per decision, so checkers and rankers read plain fields. */
export interface Ask {
  readonly kind: WorkKind;
  readonly appId: string;
  readonly region: string;
  readonly resources: Readonly<Resources>;
  readonly labels: readonly string[];
  /** `missing label <l>` for each label, built once per decision rather than per node */
  readonly missingLabelReasons: readonly string[];
  /** each label's FleetView.labelBit, or undefined when one has no bit */
  readonly labelBits: readonly number[] | undefined;
  readonly policy: PlacementPolicy;
  readonly now: number;
  readonly failurePenaltyWindowMs: number;
}

/**
 * One feasibility rule. `pending` is how many placements of the same plan were already put on
 * this node, so a multi-replica plan never double-books what its earlier replicas took.
 * Returns null when the node passes, else the reason it does not.
 */
export interface FeasibilityChecker {
  readonly name: string;
  check(node: NodeView, ask: Ask, pending: number): string | null;
}

/** One score contribution; the node with the largest sum wins. */
export interface Ranker {
  readonly name: string;
  score(node: NodeView, ask: Ask, pending: number): number;
}
