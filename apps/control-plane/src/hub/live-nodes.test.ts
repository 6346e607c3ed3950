import { describe, expect, it } from 'vitest';
import { LiveNodes, isDegraded, type NodeUsage } from './live-nodes';

const usage = (over: Partial<NodeUsage> = {}): NodeUsage => ({
  cpuPercent: 10,
  load1: 0,
  memoryUsedMb: 100,
  memoryTotalMb: 1000,
  diskUsedMb: 100,
  diskTotalMb: 1000,
  netRxBytes: 0,
  netTxBytes: 0,
  containerCount: 0,
  ...over,
});

describe('isDegraded', () => {
  it('flags 90% of CPU, memory or disk, and nothing below', () => {
    expect(isDegraded(usage())).toBe(false);
    expect(isDegraded(usage({ cpuPercent: 90 }))).toBe(true);
    expect(isDegraded(usage({ memoryUsedMb: 900 }))).toBe(true);
    expect(isDegraded(usage({ diskUsedMb: 950 }))).toBe(true);
    expect(isDegraded(usage({ cpuPercent: 89.9, memoryUsedMb: 899, diskUsedMb: 899 }))).toBe(false);
    expect(isDegraded(usage({ memoryTotalMb: 0, diskTotalMb: 0 }))).toBe(false);
  });
});

describe('LiveNodes', () => {
  it('drains each heartbeat once, stamps connected nodes without usage, and ignores unknown nodes', () => {
    const live = new LiveNodes();
    live.connected('a');
    live.connected('b');
    live.heartbeat('a', usage({ cpuPercent: 95 }), 0);
    live.heartbeat('ghost', usage(), 0);
    const first = live.drain();
    expect(first.dirty).toEqual([{ nodeId: 'a', usage: usage({ cpuPercent: 95 }), degraded: true }]);
    expect(first.stamped).toEqual(['b']);
    expect(live.drain()).toEqual({ dirty: [], stamped: [], points: [], allocations: [] });
  });

  it('averages CPU over a minute and emits the point when the minute rolls over or the node leaves', () => {
    const live = new LiveNodes();
    live.connected('a');
    live.heartbeat('a', usage({ cpuPercent: 10 }), 60_000);
    live.heartbeat('a', usage({ cpuPercent: 30, memoryUsedMb: 300 }), 90_000);
    expect(live.drain().points).toEqual([]);
    live.heartbeat('a', usage({ cpuPercent: 50 }), 120_000);
    const { points } = live.drain();
    expect(points).toEqual([{ nodeId: 'a', at: 60_000, cpuPercent: 20, usage: usage({ cpuPercent: 30, memoryUsedMb: 300 }) }]);
    live.disconnected('a');
    expect(live.drain().points).toEqual([{ nodeId: 'a', at: 120_000, cpuPercent: 50, usage: usage({ cpuPercent: 50 }) }]);
    expect(live.size).toBe(0);
  });
});

describe('LiveNodes allocation reports', () => {
  const status = (over = {}) => ({ allocationId: 'alloc_1', state: 'healthy' as const, restarts: 0, ...over });
  it('passes on a report when it changed, once, and an emptied list once', () => {
    const live = new LiveNodes();
    live.connected('a');
    live.heartbeat('a', usage(), 0);
    expect(live.drain().allocations).toEqual([]);
    live.heartbeat('a', usage(), 0, [status()]);
    expect(live.drain().allocations).toEqual([{ nodeId: 'a', allocations: [status()] }]);
    live.heartbeat('a', usage(), 0, [status()]);
    expect(live.drain().allocations).toEqual([]);
    live.heartbeat('a', usage(), 0, [status({ restarts: 1 })]);
    expect(live.drain().allocations).toEqual([{ nodeId: 'a', allocations: [status({ restarts: 1 })] }]);
    live.heartbeat('a', usage(), 0, []);
    expect(live.drain().allocations).toEqual([{ nodeId: 'a', allocations: [] }]);
    live.heartbeat('a', usage(), 0, []);
    expect(live.drain().allocations).toEqual([]);
  });
});
