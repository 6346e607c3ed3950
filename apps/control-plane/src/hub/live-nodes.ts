import type { AllocationStatus } from '@karvon/protocol';

// What the hub knows about connected nodes between database flushes. Heartbeats only touch this
// map (no I/O per heartbeat); the flusher writes what changed once a second, in one transaction.

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
}

interface LiveNode {
  usage: NodeUsage | undefined;
  /** the last reported allocation states, kept only until flushed */
  allocations: readonly AllocationStatus[] | undefined;
  /** what was last taken for flushing, to skip writing unchanged reports */
  allocationsSignature: string;
  degraded: boolean;
  /** a heartbeat arrived since the last flush */
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

/** At or above this share of CPU, memory or disk a node is flagged `degraded`. */
export const DEGRADED_THRESHOLD = 0.9;

export function isDegraded(u: NodeUsage): boolean {
  return (
    u.cpuPercent / 100 >= DEGRADED_THRESHOLD ||
    (u.memoryTotalMb > 0 && u.memoryUsedMb / u.memoryTotalMb >= DEGRADED_THRESHOLD) ||
    (u.diskTotalMb > 0 && u.diskUsedMb / u.diskTotalMb >= DEGRADED_THRESHOLD)
  );
}

export class LiveNodes {
  private readonly nodes = new Map<string, LiveNode>();
  private readonly completedPoints: MetricPointRow[] = [];

  get size(): number {
    return this.nodes.size;
  }

  connected(nodeId: string): void {
    if (!this.nodes.has(nodeId)) this.nodes.set(nodeId, { usage: undefined, allocations: undefined, allocationsSignature: '', degraded: false, dirty: true, minute: undefined });
    else this.nodes.get(nodeId)!.dirty = true;
  }

  disconnected(nodeId: string): void {
    const n = this.nodes.get(nodeId);
    if (n?.minute) this.completedPoints.push(point(nodeId, n.minute));
    this.nodes.delete(nodeId);
  }

  heartbeat(nodeId: string, usage: NodeUsage, nowMs: number, allocations: readonly AllocationStatus[] = []): void {
    const n = this.nodes.get(nodeId);
    if (!n) return;
    n.usage = usage;
    if (allocations.length > 0 || n.allocationsSignature !== '') n.allocations = allocations;
    n.degraded = isDegraded(usage);
    n.dirty = true;
    const minute = Math.floor(nowMs / 60_000) * 60_000;
    if (n.minute && n.minute.minute !== minute) {
      this.completedPoints.push(point(nodeId, n.minute));
      n.minute = undefined;
    }
    n.minute ??= { minute, cpuSum: 0, samples: 0, last: usage };
    n.minute.cpuSum += usage.cpuPercent;
    n.minute.samples += 1;
    n.minute.last = usage;
  }

  /** Takes what changed since the last call: nodes to stamp, and finished one-minute points. */
  drain(): { dirty: DirtyNode[]; stamped: string[]; points: MetricPointRow[]; allocations: AllocationReport[] } {
    const dirty: DirtyNode[] = [];
    const stamped: string[] = [];
    const allocations: AllocationReport[] = [];
    for (const [nodeId, n] of this.nodes) {
      if (n.allocations) {
        const signature = JSON.stringify(n.allocations);
        if (signature !== n.allocationsSignature) {
          allocations.push({ nodeId, allocations: n.allocations });
          n.allocationsSignature = n.allocations.length > 0 ? signature : '';
        }
        n.allocations = undefined;
      }
      if (!n.dirty) continue;
      n.dirty = false;
      if (n.usage) dirty.push({ nodeId, usage: n.usage, degraded: n.degraded });
      else stamped.push(nodeId);
    }
    const points = this.completedPoints.splice(0);
    return { dirty, stamped, points, allocations };
  }
}

function point(nodeId: string, m: MinuteAccumulator): MetricPointRow {
  return { nodeId, at: m.minute, cpuPercent: m.samples > 0 ? m.cpuSum / m.samples : 0, usage: m.last };
}
