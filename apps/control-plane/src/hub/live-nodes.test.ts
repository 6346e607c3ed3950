import { describe, expect, it } from 'vitest';
import type { AllocationStatus } from '@karvon/protocol';
import { LiveNodes, allocationStatesChanged, isDegraded, type NodeUsage } from './live-nodes';

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
    // 100% turns the flag off; the CPU considered is the one passed (smoothed by LiveNodes).
    expect(isDegraded(usage({ cpuPercent: 100, memoryUsedMb: 1000, diskUsedMb: 1000 }), 1)).toBe(false);
    expect(isDegraded(usage({ cpuPercent: 100 }), 0.9, 40)).toBe(false);
  });

  it('smooths CPU over heartbeats: one busy heartbeat does not degrade a node, a busy streak does', () => {
    const live = new LiveNodes();
    live.connected('n1');
    const at = (cpuPercent: number) => live.heartbeat('n1', usage({ cpuPercent }), Date.now());
    const degraded = () => live.drain().dirty.find((d) => d.nodeId === 'n1')?.degraded;
    at(10);
    expect(degraded()).toBe(false);
    at(100);
    expect(degraded()).toBe(false);
    for (let i = 0; i < 8; i++) at(100);
    expect(degraded()).toBe(true);
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
    expect(live.drain()).toEqual({ dirty: [], stamped: [], points: [], allocations: [], allocationPoints: [], stateChanged: false });
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

describe('LiveNodes allocation metrics', () => {
  const status = (over = {}) => ({ allocationId: 'alloc_1', state: 'healthy' as const, restarts: 0, ...over });
  it("keeps each allocation's last sample of a minute, one point per allocation, when the minute rolls over or the node leaves", () => {
    const live = new LiveNodes();
    live.connected('a');
    live.heartbeat('a', usage(), 60_000, [status({ cpuPercent: 10, memoryMb: 100, netRxBytes: 1, netTxBytes: 2 }), status({ allocationId: 'alloc_2' })]);
    live.heartbeat('a', usage(), 90_000, [status({ cpuPercent: 20, memoryMb: 200, netRxBytes: 3, netTxBytes: 4 }), status({ allocationId: 'alloc_2', cpuPercent: 5 })]);
    expect(live.drain().allocationPoints).toEqual([]);
    live.heartbeat('a', usage(), 125_000, [status({ cpuPercent: 30 })]);
    expect(live.drain().allocationPoints).toEqual([
      { nodeId: 'a', allocationId: 'alloc_1', at: 60_000, cpuPercent: 20, memoryMb: 200, netRxBytes: 3, netTxBytes: 4 },
      { nodeId: 'a', allocationId: 'alloc_2', at: 60_000, cpuPercent: 5, memoryMb: undefined, netRxBytes: undefined, netTxBytes: undefined },
    ]);
    live.disconnected('a');
    expect(live.drain().allocationPoints).toEqual([
      { nodeId: 'a', allocationId: 'alloc_1', at: 120_000, cpuPercent: 30, memoryMb: undefined, netRxBytes: undefined, netTxBytes: undefined },
    ]);
  });

  it('makes no point for an allocation reported without any stats', () => {
    const live = new LiveNodes();
    live.connected('a');
    live.heartbeat('a', usage(), 0, [status()]);
    live.disconnected('a');
    expect(live.drain().allocationPoints).toEqual([]);
  });
});

describe('LiveNodes drain', () => {
  it('takes only the nodes heard since the last drain, each once however many heartbeats it sent', () => {
    const live = new LiveNodes();
    for (let i = 0; i < 1000; i++) live.connected(`n${i}`);
    expect(live.drain().stamped).toHaveLength(1000);
    for (let k = 0; k < 5; k++) live.heartbeat('n7', usage(), 0);
    live.heartbeat('n8', usage(), 0);
    const { dirty, stamped } = live.drain();
    expect(dirty.map((d) => d.nodeId)).toEqual(['n7', 'n8']);
    expect(stamped).toEqual([]);
  });

  it("still stamps a node whose session ended after its last heartbeat, and a reconnected node's new session", () => {
    const live = new LiveNodes();
    live.connected('a');
    live.drain();
    live.heartbeat('a', usage({ cpuPercent: 1 }), 0);
    live.disconnected('a');
    live.connected('a');
    const { dirty, stamped } = live.drain();
    expect(dirty.map((d) => d.nodeId)).toEqual(['a']);
    expect(stamped).toEqual(['a']);
  });
});

describe('allocation state changes', () => {
  const status = (over: Partial<AllocationStatus> = {}): AllocationStatus => ({ allocationId: 'alloc_1', state: 'starting', restarts: 0, ...over });

  it('counts a state, an upstream or a new allocation, not numbers, messages, order or a departure', () => {
    const a = status();
    const b = status({ allocationId: 'alloc_2', state: 'healthy', upstream: '127.0.0.1:4000' });
    expect(allocationStatesChanged([a, b], [status({ cpuPercent: 50, restarts: 2, message: 'x' }), { ...b, memoryMb: 3 }])).toBe(false);
    expect(allocationStatesChanged([a, b], [b, a])).toBe(false);
    expect(allocationStatesChanged([a, b], [b])).toBe(false);
    expect(allocationStatesChanged([a, b], [status({ state: 'healthy' }), b])).toBe(true);
    expect(allocationStatesChanged([a, b], [a, { ...b, upstream: '127.0.0.1:4001' }])).toBe(true);
    expect(allocationStatesChanged([a], [a, b])).toBe(true);
    expect(allocationStatesChanged([], [])).toBe(false);
  });

  it('tells the listener at each changing heartbeat and the drain once, but not for the first report of a session', () => {
    const live = new LiveNodes();
    let heard = 0;
    live.onStateChange(() => (heard += 1));
    live.connected('a');
    live.heartbeat('a', usage(), 0, [status({ state: 'healthy' })]);
    expect(heard).toBe(0);
    expect(live.drain().stateChanged).toBe(false);
    live.heartbeat('a', usage(), 0, [status({ state: 'healthy', cpuPercent: 3 })]);
    expect(heard).toBe(0);
    live.heartbeat('a', usage(), 0, [status({ state: 'healthy' }), status({ allocationId: 'alloc_2' })]);
    expect(heard).toBe(1);
    // compared with the newest report, flushed or not
    live.heartbeat('a', usage(), 0, [status({ state: 'healthy' }), status({ allocationId: 'alloc_2', state: 'healthy' })]);
    expect(heard).toBe(2);
    expect(live.drain().stateChanged).toBe(true);
    expect(live.drain().stateChanged).toBe(false);
    live.heartbeat('a', usage(), 0, [status({ state: 'healthy' }), status({ allocationId: 'alloc_2', state: 'healthy' })]);
    expect(heard).toBe(2);
    live.heartbeat('a', usage(), 0, [status({ state: 'healthy' }), status({ allocationId: 'alloc_2', state: 'failed' })]);
    expect(heard).toBe(3);
    // a new session starts over: its first report is no change
    live.disconnected('a');
    live.connected('a');
    live.heartbeat('a', usage(), 0, [status({ state: 'stopped' })]);
    expect(heard).toBe(3);
  });
});
