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
    if (!this.nodes.has(nodeId)) this.nodes.set(nodeId, { usage: undefined, degraded: false, dirty: true, minute: undefined });
    else this.nodes.get(nodeId)!.dirty = true;
  }

  disconnected(nodeId: string): void {
    const n = this.nodes.get(nodeId);
    if (n?.minute) this.completedPoints.push(point(nodeId, n.minute));
    this.nodes.delete(nodeId);
  }

  heartbeat(nodeId: string, usage: NodeUsage, nowMs: number): void {
    const n = this.nodes.get(nodeId);
    if (!n) return;
    n.usage = usage;
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
  drain(): { dirty: DirtyNode[]; stamped: string[]; points: MetricPointRow[] } {
    const dirty: DirtyNode[] = [];
    const stamped: string[] = [];
    for (const [nodeId, n] of this.nodes) {
      if (!n.dirty) continue;
      n.dirty = false;
      if (n.usage) dirty.push({ nodeId, usage: n.usage, degraded: n.degraded });
      else stamped.push(nodeId);
    }
    const points = this.completedPoints.splice(0);
    return { dirty, stamped, points };
  }
}

function point(nodeId: string, m: MinuteAccumulator): MetricPointRow {
  return { nodeId, at: m.minute, cpuPercent: m.samples > 0 ? m.cpuSum / m.samples : 0, usage: m.last };
}
