// The fleet as the control plane keeps it in memory: nodes indexed by region and by label, with
// allocated resources updated as plans are applied, and each region's slot sets (slot-sets.ts)
// kept in step, so a decision reads a few candidates instead of rebuilding arrays from a
// snapshot. Decisions only read it (as a FleetView); `apply` and `release` are the separate,
// explicit writes.
import { DomainError } from '../domain/errors';
import { grown, LevelSets, levelFor, levelOf, setBit, wordsFor, type SlotBits } from './slot-sets';
import type {
  FleetView,
  NodeSnapshot,
  NodeStatus,
  NodeView,
  PlacementPlan,
  RecentFailure,
  RegionView,
  Resources,
  Snapshot,
  WorkKind,
} from './types';

export interface FleetIndexOptions {
  /** build slots of a node whose snapshot does not say; default 2 */
  defaultMaxBuilds?: number;
  /** how many recently changed nodes per region a decision ranks first; default 16 */
  recentSize?: number;
}

/** One running allocation or build, as `release` needs it. */
export interface AllocationRef {
  kind: WorkKind;
  nodeId: string;
  appId: string;
  resources: Resources;
}

export interface LivenessUpdate {
  status?: NodeStatus;
  degraded?: boolean;
  usage?: Resources;
}

class NodeState implements NodeView {
  readonly id: string;
  readonly region: string;
  readonly labels: ReadonlySet<string>;
  readonly labelBits: number;
  status: NodeStatus;
  degraded: boolean;
  readonly cpuCapacity: number;
  readonly memoryCapacity: number;
  readonly diskCapacity: number;
  cpuAllocated: number;
  memoryAllocated: number;
  diskAllocated: number;
  usage: Resources;
  readonly maxContainers: number;
  containerCount: number;
  runningBuilds: number;
  readonly maxBuilds: number;
  readonly replicas = new Map<string, number>();
  /** appId → latest failure; absent until the first one, so the common case costs no lookup */
  failures: Map<string, number> | undefined = undefined;
  /** position in its region's `nodes`, which is its bit in the region's slot sets */
  slot = -1;
  /** free CPU and memory on the slot-sets ladder; -1 when the node takes no work (not online, or degraded) */
  cpuLevel = -1;
  memoryLevel = -1;

  constructor(s: NodeSnapshot, region: string, labelBits: number, defaultMaxBuilds: number) {
    this.id = s.id;
    this.region = region;
    this.labels = new Set(s.labels);
    this.labelBits = labelBits;
    this.status = s.status;
    this.degraded = s.degraded;
    this.cpuCapacity = s.capacity.cpuMillicores;
    this.memoryCapacity = s.capacity.memoryMb;
    this.diskCapacity = s.capacity.diskMb;
    this.cpuAllocated = s.allocated.cpuMillicores;
    this.memoryAllocated = s.allocated.memoryMb;
    this.diskAllocated = s.allocated.diskMb;
    this.usage = { ...s.usage };
    this.maxContainers = s.maxContainers;
    this.containerCount = s.containerCount;
    this.runningBuilds = s.runningBuilds ?? 0;
    this.maxBuilds = s.maxBuilds ?? defaultMaxBuilds;
    for (const [appId, n] of Object.entries(s.replicasByApp ?? {})) if (n > 0) this.replicas.set(appId, n);
  }

  replicasOf(appId: string): number {
    return this.replicas.get(appId) ?? 0;
  }

  lastFailureAt(appId: string): number | undefined {
    return this.failures === undefined ? undefined : this.failures.get(appId);
  }
}

const EMPTY: readonly NodeView[] = [];
/** label combinations a region keeps intersected before it starts over */
const MAX_INTERSECTIONS = 64;
/** Bits stay in V8's small integers (31 bits signed) so `&` never leaves the fast path. */
const LABEL_BITS = 30;

class RegionState implements RegionView {
  readonly nodes: NodeState[] = [];
  readonly byLabel = new Map<string, NodeState[]>();
  readonly recent: NodeState[] = [];
  /** words each slot set holds now; grown by doubling */
  private words = 0;
  private readonly cpu = new LevelSets();
  private readonly memory = new LevelSets();
  private readonly labelSlots = new Map<string, SlotBits>();
  private everySlot: SlotBits = new Int32Array(0);
  private noSlot: SlotBits = new Int32Array(0);
  /** label combinations → the slots carrying them all */
  private readonly intersections = new Map<string, SlotBits>();

  constructor(readonly name: string) {}

  withLabel(label: string): readonly NodeView[] {
    return this.byLabel.get(label) ?? EMPTY;
  }

  takingWork(): SlotBits {
    return this.cpu.atLeast(0);
  }

  cpuAtLeast(cpuMillicores: number): SlotBits {
    return this.cpu.atLeast(levelFor(cpuMillicores));
  }

  memoryAtLeast(memoryMb: number): SlotBits {
    return this.memory.atLeast(levelFor(memoryMb));
  }

  withLabels(labels: readonly string[]): SlotBits {
    if (labels.length === 0) return this.everySlot;
    if (labels.length === 1) return this.labelSlots.get(labels[0]!) ?? this.noSlot;
    // Several labels: their intersection, kept until the region's nodes change (labels change
    // only with them). A handful of combinations in practice; the cap bounds a caller that asks
    // for many.
    const key = labels.join('\n');
    let both = this.intersections.get(key);
    if (both !== undefined) return both;
    both = Int32Array.from(this.labelSlots.get(labels[0]!) ?? this.noSlot);
    for (let i = 1; i < labels.length; i++) {
      const other = this.labelSlots.get(labels[i]!) ?? this.noSlot;
      for (let w = 0; w < both.length; w++) both[w]! &= other[w]!;
    }
    if (this.intersections.size >= MAX_INTERSECTIONS) this.intersections.clear();
    this.intersections.set(key, both);
    return both;
  }

  /** Adds a node in the last slot and sets its bits. */
  add(node: NodeState): void {
    this.append(node);
    this.reserve(this.nodes.length);
    this.intersections.clear();
    this.seat(node, this.nodes.length - 1);
    // In no level set yet: the refit moves it up from none to its levels.
    node.cpuLevel = -1;
    node.memoryLevel = -1;
    this.refit(node);
  }

  /** Adds a node to the lists only; `rebuild` sets the bits of every node at once. */
  append(node: NodeState): void {
    this.nodes.push(node);
    for (const label of node.labels) {
      let list = this.byLabel.get(label);
      if (list === undefined) this.byLabel.set(label, (list = []));
      list.push(node);
    }
  }

  /** O(region): removal is an admin event, not a decision. Later nodes move down a slot, so every set is rebuilt. */
  remove(node: NodeState): void {
    removeFrom(this.nodes, node);
    removeFrom(this.recent, node);
    for (const label of node.labels) {
      const list = this.byLabel.get(label);
      if (list === undefined) continue;
      removeFrom(list, node);
      if (list.length === 0) this.byLabel.delete(label);
    }
    this.rebuild();
  }

  /** Every slot and every set from the nodes as they are: O(region + levels × words). */
  rebuild(): void {
    this.reserve(this.nodes.length);
    this.everySlot.fill(0);
    this.labelSlots.clear();
    this.intersections.clear();
    const cpu: number[] = [];
    const memory: number[] = [];
    for (let slot = 0; slot < this.nodes.length; slot++) {
      const node = this.nodes[slot]!;
      this.seat(node, slot);
      node.cpuLevel = freeLevel(node, node.cpuCapacity, node.cpuAllocated);
      node.memoryLevel = freeLevel(node, node.memoryCapacity, node.memoryAllocated);
      cpu.push(node.cpuLevel);
      memory.push(node.memoryLevel);
    }
    this.cpu.fill(cpu);
    this.memory.fill(memory);
  }

  /** Puts the node's slot at the levels its status and free CPU and memory call for. */
  refit(node: NodeState): void {
    const cpu = freeLevel(node, node.cpuCapacity, node.cpuAllocated);
    const memory = freeLevel(node, node.memoryCapacity, node.memoryAllocated);
    if (cpu !== node.cpuLevel) this.cpu.move(node.slot, node.cpuLevel, cpu);
    if (memory !== node.memoryLevel) this.memory.move(node.slot, node.memoryLevel, memory);
    node.cpuLevel = cpu;
    node.memoryLevel = memory;
  }

  /** Gives the node its slot, and sets its bit in the set of every slot and in its labels' sets. */
  private seat(node: NodeState, slot: number): void {
    node.slot = slot;
    setBit(this.everySlot, slot);
    for (const label of node.labels) setBit(this.labelSet(label), slot);
  }

  private labelSet(label: string): SlotBits {
    let bits = this.labelSlots.get(label);
    if (bits === undefined) this.labelSlots.set(label, (bits = new Int32Array(this.words)));
    return bits;
  }

  forget(node: NodeState): void {
    removeFrom(this.recent, node);
  }

  touch(node: NodeState, size: number): void {
    if (size <= 0) return;
    removeFrom(this.recent, node);
    this.recent.unshift(node);
    if (this.recent.length > size) this.recent.length = size;
  }

  /** Makes room for `slots` nodes in every set; grows by doubling, so adds one by one stay cheap. */
  private reserve(slots: number): void {
    const needed = wordsFor(slots);
    if (needed <= this.words) return;
    const words = Math.max(needed, this.words * 2);
    this.cpu.grow(words);
    this.memory.grow(words);
    for (const [label, bits] of this.labelSlots) this.labelSlots.set(label, grown(bits, words));
    this.everySlot = grown(this.everySlot, words);
    this.noSlot = new Int32Array(words);
    this.words = words;
  }
}

/** What is free of one resource, on the slot-sets ladder; -1 when the node takes no work (not online, or degraded). */
function freeLevel(node: NodeState, capacity: number, allocated: number): number {
  return node.status === 'online' && !node.degraded ? levelOf(capacity - allocated) : -1;
}

/** Whether `n` more placements of `r` (builds, when `kind` says so) fit on the node as it is booked now. */
function fitsMore(node: NodeState, kind: WorkKind, r: Resources, n: number): boolean {
  return (
    node.cpuAllocated + n * r.cpuMillicores <= node.cpuCapacity &&
    node.memoryAllocated + n * r.memoryMb <= node.memoryCapacity &&
    node.diskAllocated + n * r.diskMb <= node.diskCapacity &&
    node.containerCount + n <= node.maxContainers &&
    (kind !== 'build' || node.runningBuilds + n <= node.maxBuilds)
  );
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

export class FleetIndex implements FleetView {
  now: number;
  private readonly nodesById = new Map<string, NodeState>();
  private readonly regions = new Map<string, RegionState>();
  /** label → bit, for the first LABEL_BITS labels seen; later ones are looked up in the sets */
  private readonly bitByLabel = new Map<string, number>();
  private readonly defaultMaxBuilds: number;
  private readonly recentSize: number;

  constructor(now = 0, options: FleetIndexOptions = {}) {
    this.now = now;
    this.defaultMaxBuilds = options.defaultMaxBuilds ?? 2;
    this.recentSize = options.recentSize ?? 16;
  }

  static fromSnapshot(snapshot: Snapshot, options: FleetIndexOptions = {}): FleetIndex {
    const index = new FleetIndex(snapshot.now, options);
    // The lists first, then each region's sets at once: a fleet index is built for every plan.
    for (const node of snapshot.nodes) index.insert(node, false);
    for (const region of index.regions.values()) region.rebuild();
    for (const failure of snapshot.recentFailures ?? []) index.recordFailure(failure);
    return index;
  }

  region(name: string): RegionView | undefined {
    return this.regions.get(name);
  }

  labelBit(label: string): number | undefined {
    return this.bitByLabel.get(label);
  }

  private bitsOf(labels: readonly string[]): number {
    let bits = 0;
    for (const label of labels) {
      let bit = this.bitByLabel.get(label);
      if (bit === undefined && this.bitByLabel.size < LABEL_BITS) this.bitByLabel.set(label, (bit = 1 << this.bitByLabel.size));
      if (bit !== undefined) bits |= bit;
    }
    return bits;
  }

  node(id: string): NodeView | undefined {
    return this.nodesById.get(id);
  }

  get nodeCount(): number {
    return this.nodesById.size;
  }

  regionNames(): string[] {
    return [...this.regions.keys()];
  }

  setNow(now: number): void {
    this.now = now;
  }

  /** Adds a node or replaces it wholesale (its counters come from the snapshot; its failures are kept). */
  upsertNode(snapshot: NodeSnapshot): void {
    this.insert(snapshot, true);
  }

  private insert(snapshot: NodeSnapshot, withSets: boolean): void {
    const old = this.nodesById.get(snapshot.id);
    if (old !== undefined) this.removeNode(old.id);
    const region = this.regionNamed(snapshot.region);
    // Every node of a region shares the region's name string: the region check then compares
    // one pointer instead of characters.
    const node = new NodeState(snapshot, region.name, this.bitsOf(snapshot.labels), this.defaultMaxBuilds);
    if (old !== undefined) node.failures = old.failures;
    this.nodesById.set(node.id, node);
    if (withSets) region.add(node);
    else region.append(node);
  }

  private regionNamed(name: string): RegionState {
    let region = this.regions.get(name);
    if (region === undefined) this.regions.set(name, (region = new RegionState(name)));
    return region;
  }

  removeNode(id: string): boolean {
    const node = this.nodesById.get(id);
    if (node === undefined) return false;
    this.nodesById.delete(id);
    const region = this.regions.get(node.region);
    region?.remove(node);
    if (region !== undefined && region.nodes.length === 0) this.regions.delete(region.name);
    return true;
  }

  /** Heartbeats and the liveness sweep: status, the degraded flag and live usage. */
  updateLiveness(id: string, update: LivenessUpdate): void {
    const node = this.nodesById.get(id);
    if (node === undefined) return;
    if (update.status !== undefined) node.status = update.status;
    if (update.degraded !== undefined) node.degraded = update.degraded;
    this.regions.get(node.region)?.refit(node);
    if (update.usage !== undefined) node.usage = { ...update.usage };
  }

  recordFailure(failure: RecentFailure): void {
    const node = this.nodesById.get(failure.nodeId);
    if (node === undefined) return;
    node.failures ??= new Map();
    const previous = node.failures.get(failure.appId);
    if (previous === undefined || failure.at > previous) node.failures.set(failure.appId, failure.at);
  }

  /** Drops failures older than `at`, so the per-node maps do not grow for ever. */
  forgetFailuresBefore(at: number): void {
    for (const node of this.nodesById.values()) {
      if (node.failures === undefined) continue;
      for (const [appId, when] of node.failures) if (when < at) node.failures.delete(appId);
      if (node.failures.size === 0) node.failures = undefined;
    }
  }

  /**
   * Books a plan's placements. All or nothing: every placement is checked against the index as it
   * is now (the plan may be stale if something else was applied since it was made), and a plan
   * that no longer fits throws CONFLICT and changes nothing, like Nomad's plan applier. Capacity
   * is rechecked, status is not: a node may turn draining a moment after the apply just as well,
   * and the liveness sweep and re-placement own that.
   */
  apply(plan: PlacementPlan): void {
    const counts = new Map<NodeState, number>();
    for (const p of plan.placements) {
      const node = this.nodesById.get(p.nodeId);
      if (node === undefined) throw new DomainError('CONFLICT', `node ${p.nodeId} is not in the fleet`);
      if (node.region !== plan.region) throw new DomainError('CONFLICT', `node ${p.nodeId} is not in region ${plan.region}`);
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    const r = plan.resources;
    for (const [node, n] of counts) {
      if (!fitsMore(node, plan.kind, r, n)) throw new DomainError('CONFLICT', `plan no longer fits on node ${node.id}`);
    }
    const region = this.regions.get(plan.region);
    for (const [node, n] of counts) {
      node.cpuAllocated += n * r.cpuMillicores;
      node.memoryAllocated += n * r.memoryMb;
      node.diskAllocated += n * r.diskMb;
      node.containerCount += n;
      if (plan.kind === 'build') node.runningBuilds += n;
      else node.replicas.set(plan.appId, node.replicasOf(plan.appId) + n);
      region?.refit(node);
      // A node stays among the recent ones only while it could take one more of what it just
      // took: one that has just filled up is where the next request of that size does not fit,
      // and ranking it first only adds a rejection. (sched-quality: churn 1.017x of a full scan
      // before, 0.994x after; fill 0.979x and 0.977x; 28.8 and 23.6 nodes examined per placement.)
      if (fitsMore(node, plan.kind, r, 1)) region?.touch(node, this.recentSize);
      else region?.forget(node);
    }
  }

  /** Frees what a stopped allocation or finished build held. Unknown nodes are ignored. */
  release(allocation: AllocationRef): void {
    const node = this.nodesById.get(allocation.nodeId);
    if (node === undefined) return;
    const r = allocation.resources;
    // Floors at zero: a double release must not leave negative bookings, which would let the
    // next decision overcommit the node.
    node.cpuAllocated = Math.max(0, node.cpuAllocated - r.cpuMillicores);
    node.memoryAllocated = Math.max(0, node.memoryAllocated - r.memoryMb);
    node.diskAllocated = Math.max(0, node.diskAllocated - r.diskMb);
    node.containerCount = Math.max(0, node.containerCount - 1);
    const region = this.regions.get(node.region);
    region?.refit(node);
    if (node.containerCount > 0) region?.touch(node, this.recentSize);
    if (allocation.kind === 'build') {
      node.runningBuilds = Math.max(0, node.runningBuilds - 1);
      return;
    }
    const n = node.replicasOf(allocation.appId) - 1;
    if (n > 0) node.replicas.set(allocation.appId, n);
    else node.replicas.delete(allocation.appId);
  }
}
