import type { AllocationStatus } from '@karvon/protocol';

// What the hub knows about connected nodes between database flushes. A heartbeat only touches
// this node's entry (O(1), no I/O, no copy of the report); the flusher takes only the nodes heard
// since the last flush (O(changed), not O(fleet)) and writes them once a second, in one
// transaction. A change of an allocation's state or upstream (what routes and rollouts act on) is
// flagged as well, so the flusher can write it soon instead of at the next second.

export interface NodeUsage {
  cpuPercent: number;
  load1: number;
  memoryUsedMb: number;
  memoryTotalMb: number;
  diskUsedMb: number;
  diskTotalMb: number;
  netRxBytes: number;
  netTxBytes: number;
  containerCount: number;
}

interface MinuteAccumulator {
  minute: number;
  cpuSum: number;
  samples: number;
  last: NodeUsage;
  /** the allocations of the minute's last heartbeat: their stats are the minute's points */
  allocations: readonly AllocationStatus[];
}

interface LiveNode {
  nodeId: string;
  usage: NodeUsage | undefined;
  /** the last reported allocation states, kept only until flushed */
  allocations: readonly AllocationStatus[] | undefined;
  /** what was last taken for flushing, to skip writing unchanged reports */
  flushedAllocations: readonly AllocationStatus[];
  degraded: boolean;
  /** CPU % smoothed over recent heartbeats: one busy second does not make a node degraded */
  cpuSmoothed: number | undefined;
  /** a heartbeat (or the connection) arrived since the last flush: the node is in `pending` */
  dirty: boolean;
  /** a heartbeat arrived in this session: the first report of a session is no state change */
  heard: boolean;
  minute: MinuteAccumulator | undefined;
}

export interface DirtyNode {
  nodeId: string;
  usage: NodeUsage;
  degraded: boolean;
}

export interface AllocationReport {
  nodeId: string;
  allocations: readonly AllocationStatus[];
}

export interface MetricPointRow {
  nodeId: string;
  /** start of the minute, ms since epoch */
  at: number;
  cpuPercent: number;
  usage: NodeUsage;
}

/** One allocation's last sample of a minute, as its node reported it. */
export interface AllocationPointRow {
  nodeId: string;
  allocationId: string;
  /** start of the minute, ms since epoch */
  at: number;
  cpuPercent: number | undefined;
  memoryMb: number | undefined;
  netRxBytes: number | undefined;
  netTxBytes: number | undefined;
}

export interface Drained {
  dirty: DirtyNode[];
  stamped: string[];
  points: MetricPointRow[];
  allocations: AllocationReport[];
  allocationPoints: AllocationPointRow[];
  /** some allocation's state or upstream changed (or one appeared) in what this drain took */
  stateChanged: boolean;
}

/** At or above this share of CPU, memory or disk a node is flagged `degraded` (KARVON_DEGRADED_PERCENT). */
export const DEGRADED_THRESHOLD = 0.9;

/** Weight of the newest heartbeat in the smoothed CPU: about the last five heartbeats count. */
const CPU_SMOOTHING = 0.3;

/**
 * Degraded: memory or disk at or above the threshold, or CPU (pass the smoothed value) at or
 * above it. A threshold of 1 (100%) turns the flag off: an operator who overcommits on purpose,
 * or a test machine whose CPU the tests themselves saturate.
 */
export function isDegraded(u: NodeUsage, threshold = DEGRADED_THRESHOLD, cpuPercent = u.cpuPercent): boolean {
  if (threshold >= 1) return false;
  return (
    cpuPercent / 100 >= threshold ||
    (u.memoryTotalMb > 0 && u.memoryUsedMb / u.memoryTotalMb >= threshold) ||
    (u.diskTotalMb > 0 && u.diskUsedMb / u.diskTotalMb >= threshold)
  );
}

const NO_ALLOCATIONS: readonly AllocationStatus[] = Object.freeze([]);

/**
 * Whether `next` changes what routes and rollouts act on against `prev` (one node's reports, in
 * the order it sent them): an allocation's state or upstream, or an allocation that was not there.
 * An allocation that left is not a change here: the control plane retired it first. O(n) when the
 * node lists its allocations in the same order as before.
 */
export function allocationStatesChanged(prev: readonly AllocationStatus[], next: readonly AllocationStatus[]): boolean {
  for (let i = 0; i < next.length; i++) {
    const x = next[i]!;
    let y = prev[i];
    if (y?.allocationId !== x.allocationId) y = prev.find((p) => p.allocationId === x.allocationId);
    if (!y || y.state !== x.state || y.upstream !== x.upstream) return true;
  }
  return false;
}

export class LiveNodes {
  private readonly nodes = new Map<string, LiveNode>();
  /** nodes heard since the last drain, each once */
  private pending: LiveNode[] = [];
  private readonly completedPoints: MetricPointRow[] = [];
  private readonly completedAllocationPoints: AllocationPointRow[] = [];
  /** an allocation state changed since the last drain */
  private stateChanged = false;
  private stateChangeListener: (() => void) | undefined;

  constructor(private readonly degradedThreshold = DEGRADED_THRESHOLD) {}

  /** Called at each heartbeat that changes an allocation's state or upstream (the liveness writer flushes soon). */
  onStateChange(listener: () => void): void {
    this.stateChangeListener = listener;
  }

  get size(): number {
    return this.nodes.size;
  }

  connected(nodeId: string): void {
    let n = this.nodes.get(nodeId);
    if (!n) {
      n = { nodeId, usage: undefined, allocations: undefined, flushedAllocations: NO_ALLOCATIONS, degraded: false, cpuSmoothed: undefined, dirty: false, heard: false, minute: undefined };
      this.nodes.set(nodeId, n);
    }
    this.markDirty(n);
  }

  disconnected(nodeId: string): void {
    const n = this.nodes.get(nodeId);
    if (!n) return;
    if (n.minute) this.completeMinute(n, n.minute);
    this.nodes.delete(nodeId);
    // A pending entry of a node that left is still drained (its last heartbeat is stamped).
  }

  heartbeat(nodeId: string, usage: NodeUsage, nowMs: number, allocations: readonly AllocationStatus[] = NO_ALLOCATIONS): void {
    const n = this.nodes.get(nodeId);
    if (!n) return;
    n.usage = usage;
    // Compared with the newest report not yet flushed, else the flushed one (equal in state to
    // any later unchanged report): no further copy kept per node.
    if (n.heard && allocationStatesChanged(n.allocations ?? n.flushedAllocations, allocations)) {
      this.stateChanged = true;
      this.stateChangeListener?.();
    }
    n.heard = true;
    if (allocations.length > 0 || n.flushedAllocations.length > 0) n.allocations = allocations;
    n.cpuSmoothed = n.cpuSmoothed === undefined ? usage.cpuPercent : n.cpuSmoothed + CPU_SMOOTHING * (usage.cpuPercent - n.cpuSmoothed);
    n.degraded = isDegraded(usage, this.degradedThreshold, n.cpuSmoothed);
    this.markDirty(n);
    const minute = nowMs - (nowMs % 60_000);
    let m = n.minute;
    if (m && m.minute !== minute) {
      this.completeMinute(n, m);
      m = undefined;
    }
    if (!m) n.minute = m = { minute, cpuSum: 0, samples: 0, last: usage, allocations };
    m.cpuSum += usage.cpuPercent;
    m.samples += 1;
    m.last = usage;
    m.allocations = allocations;
  }

  /** Takes what changed since the last call: nodes to stamp, and finished one-minute points. */
  drain(): Drained {
    const dirty: DirtyNode[] = [];
    const stamped: string[] = [];
    const allocations: AllocationReport[] = [];
    const pending = this.pending;
    this.pending = [];
    for (const n of pending) {
      n.dirty = false;
      if (n.allocations) {
        if (!sameReports(n.allocations, n.flushedAllocations)) {
          allocations.push({ nodeId: n.nodeId, allocations: n.allocations });
          n.flushedAllocations = n.allocations;
        }
        n.allocations = undefined;
      }
      if (n.usage) dirty.push({ nodeId: n.nodeId, usage: n.usage, degraded: n.degraded });
      else stamped.push(n.nodeId);
    }
    const points = this.completedPoints.splice(0);
    const allocationPoints = this.completedAllocationPoints.splice(0);
    const stateChanged = this.stateChanged;
    this.stateChanged = false;
    return { dirty, stamped, points, allocations, allocationPoints, stateChanged };
  }

  private markDirty(n: LiveNode): void {
    if (n.dirty) return;
    n.dirty = true;
    this.pending.push(n);
  }

  private completeMinute(n: LiveNode, m: MinuteAccumulator): void {
    this.completedPoints.push({ nodeId: n.nodeId, at: m.minute, cpuPercent: m.samples > 0 ? m.cpuSum / m.samples : 0, usage: m.last });
    for (const a of m.allocations) {
      if (a.cpuPercent === undefined && a.memoryMb === undefined && a.netRxBytes === undefined && a.netTxBytes === undefined) continue;
      this.completedAllocationPoints.push({
        nodeId: n.nodeId,
        allocationId: a.allocationId,
        at: m.minute,
        cpuPercent: a.cpuPercent,
        memoryMb: a.memoryMb,
        netRxBytes: a.netRxBytes,
        netTxBytes: a.netTxBytes,
      });
    }
  }
}

/** Field by field, without serialising: the reports of one node, in the order it sent them. */
function sameReports(a: readonly AllocationStatus[], b: readonly AllocationStatus[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.allocationId !== y.allocationId ||
      x.state !== y.state ||
      x.containerId !== y.containerId ||
      x.upstream !== y.upstream ||
      x.restarts !== y.restarts ||
      x.cpuPercent !== y.cpuPercent ||
      x.memoryMb !== y.memoryMb ||
      x.netRxBytes !== y.netRxBytes ||
      x.netTxBytes !== y.netTxBytes ||
      x.startedAt !== y.startedAt ||
      x.message !== y.message
    ) {
      return false;
    }
  }
  return true;
}
