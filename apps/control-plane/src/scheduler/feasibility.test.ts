import { describe, expect, it } from 'vitest';
import {
  APP_CHECKERS,
  BUILD_CHECKERS,
  buildSlotChecker,
  containerChecker,
  cpuChecker,
  degradedChecker,
  diskChecker,
  labelChecker,
  memoryChecker,
  reasonRank,
  regionChecker,
  statusChecker,
} from './feasibility';
import { askFor, fleetOf, nodeSnapshot, res, viewOf } from './test-fleet';
import type { NodeSnapshot } from './types';

function view(overrides: Partial<NodeSnapshot> = {}) {
  const snap = nodeSnapshot(overrides);
  const fleet = fleetOf([snap]);
  return { node: viewOf(fleet, snap.id), fleet };
}

describe('statusChecker', () => {
  it('passes online nodes and names every other status', () => {
    expect(statusChecker.check(view().node, askFor(), 0)).toBeNull();
    for (const status of ['suspect', 'offline', 'draining', 'disabled'] as const) {
      expect(statusChecker.check(view({ status }).node, askFor(), 0)).toBe(status);
    }
  });
});

describe('regionChecker', () => {
  it('rejects a node of another region', () => {
    expect(regionChecker.check(view().node, askFor({ region: 'tashkent-1' }), 0)).toBeNull();
    expect(regionChecker.check(view({ region: 'samarkand-1' }).node, askFor({ region: 'tashkent-1' }), 0)).toBe('other region');
  });
});

describe('labelChecker', () => {
  it('requires every label and names the first missing one', () => {
    const { node, fleet } = view({ labels: ['ssd', 'builder'] });
    expect(labelChecker.check(node, askFor({ labels: [] }), 0)).toBeNull();
    expect(labelChecker.check(node, askFor({ labels: ['ssd', 'builder'] }, fleet), 0)).toBeNull();
    expect(labelChecker.check(node, askFor({ labels: ['ssd', 'gpu'] }, fleet), 0)).toBe('missing label gpu');
  });

  it('gives the same answers through the label bits and through the label sets', () => {
    const a = nodeSnapshot({ labels: ['ssd'] });
    const b = nodeSnapshot({ labels: ['gpu'] });
    const fleet = fleetOf([a, b]);
    for (const labels of [['ssd'], ['gpu'], ['ssd', 'gpu'], ['arm']]) {
      for (const id of [a.id, b.id]) {
        const node = viewOf(fleet, id);
        expect(labelChecker.check(node, askFor({ labels }, fleet), 0)).toBe(labelChecker.check(node, askFor({ labels }), 0));
      }
    }
  });
});

describe('degradedChecker', () => {
  it('makes a degraded node infeasible', () => {
    expect(degradedChecker.check(view().node, askFor(), 0)).toBeNull();
    expect(degradedChecker.check(view({ degraded: true }).node, askFor(), 0)).toBe('degraded');
  });
});

describe('resource checkers', () => {
  const ask = askFor({ resources: res(1_000, 2_048, 10_000) });

  it('accept an exact fit and reject one unit more', () => {
    const exact = view({ capacity: res(4_000, 8_192, 100_000), allocated: res(3_000, 6_144, 90_000) }).node;
    expect(cpuChecker.check(exact, ask, 0)).toBeNull();
    expect(memoryChecker.check(exact, ask, 0)).toBeNull();
    expect(diskChecker.check(exact, ask, 0)).toBeNull();
    const over = view({ capacity: res(4_000, 8_192, 100_000), allocated: res(3_001, 6_145, 90_001) }).node;
    expect(cpuChecker.check(over, ask, 0)).toBe('insufficient cpu');
    expect(memoryChecker.check(over, ask, 0)).toBe('insufficient memory');
    expect(diskChecker.check(over, ask, 0)).toBe('insufficient disk');
  });

  it('count what earlier replicas of the same plan took', () => {
    const node = view({ capacity: res(4_000, 8_192, 100_000), allocated: res(1_000, 0, 0) }).node;
    expect(cpuChecker.check(node, ask, 2)).toBeNull(); // 1000 + 3 × 1000 = 4000
    expect(cpuChecker.check(node, ask, 3)).toBe('insufficient cpu');
  });
});

describe('containerChecker', () => {
  it('caps containers per node, pending ones included', () => {
    const node = view({ maxContainers: 10, containerCount: 8 }).node;
    expect(containerChecker.check(node, askFor(), 0)).toBeNull();
    expect(containerChecker.check(node, askFor(), 1)).toBeNull();
    expect(containerChecker.check(node, askFor(), 2)).toBe('max containers reached');
  });
});

describe('buildSlotChecker', () => {
  it('caps concurrent builds per node', () => {
    expect(buildSlotChecker.check(view({ runningBuilds: 1, maxBuilds: 2 }).node, askFor({ kind: 'build' }), 0)).toBeNull();
    expect(buildSlotChecker.check(view({ runningBuilds: 2, maxBuilds: 2 }).node, askFor({ kind: 'build' }), 0)).toBe('build slots full');
  });

  it('uses the fleet default when the snapshot does not say', () => {
    expect(view().node.maxBuilds).toBe(2);
  });
});

describe('chains', () => {
  it('run status first and resources last, builds adding their slots', () => {
    expect(APP_CHECKERS.map((c) => c.name)).toEqual(['status', 'region', 'labels', 'degraded', 'cpu', 'memory', 'disk', 'containers']);
    expect(BUILD_CHECKERS.map((c) => c.name)).toEqual([...APP_CHECKERS.map((c) => c.name), 'build-slots']);
  });

  it('rank reasons in chain order', () => {
    const order = ['draining', 'other region', 'missing label ssd', 'degraded', 'insufficient cpu', 'insufficient memory', 'insufficient disk', 'max containers reached', 'build slots full'];
    const ranks = order.map(reasonRank);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(new Set(ranks).size).toBe(order.length);
  });
});
