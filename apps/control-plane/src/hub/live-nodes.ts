import type { AllocationStatus } from '@karvon/protocol';

// What the hub knows about connected nodes between database flushes. A heartbeat only touches
// this node's entry (O(1), no I/O, no copy of the report); the flusher takes only the nodes heard
// since the last flush (O(changed), not O(fleet)) and writes them once a second, in one
// transaction.

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

export class LiveNodes {
  private readonly nodes = new Map<string, LiveNode>();
  /** nodes heard since the last drain, each once */
  private pending: LiveNode[] = [];
  private readonly completedPoints: MetricPointRow[] = [];
  private readonly completedAllocationPoints: AllocationPointRow[] = [];

  constructor(private readonly degradedThreshold = DEGRADED_THRESHOLD) {}

  get size(): number {
    return this.nodes.size;
  }

  connected(nodeId: string): void {
    let n = this.nodes.get(nodeId);
    if (!n) {
      n = { nodeId, usage: undefined, allocations: undefined, flushedAllocations: NO_ALLOCATIONS, degraded: false, cpuSmoothed: undefined, dirty: false, minute: undefined };
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
    return { dirty, stamped, points, allocations, allocationPoints };
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
