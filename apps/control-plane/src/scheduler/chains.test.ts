import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APP_CHAIN, BUILD_CHAIN } from './chains';
import type { FleetIndex } from './fleet-index';
import { askFor, fleetOf, NOW, nodeSnapshot, res, viewOf } from './test-fleet';
import type { NodeView } from './types';

// The chains are written out by hand for speed; these properties keep them equal to their arrays.
const nodeArb = fc.record({
  status: fc.constantFrom('online', 'online', 'online', 'suspect', 'offline', 'draining', 'disabled'),
  region: fc.constantFrom('tashkent-1', 'tashkent-1', 'samarkand-1'),
  labels: fc.subarray(['ssd', 'gpu', 'builder']),
  degraded: fc.boolean(),
  cpu: fc.integer({ min: 0, max: 4_000 }),
  mem: fc.integer({ min: 0, max: 8_000 }),
  disk: fc.integer({ min: 0, max: 10_000 }),
  containers: fc.integer({ min: 0, max: 10 }),
  builds: fc.integer({ min: 0, max: 3 }),
  replicas: fc.integer({ min: 0, max: 3 }),
  failedAgo: fc.option(fc.integer({ min: 0, max: 3_600_000 })),
});
type NodeCase = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
const askArb = fc.record({
  labels: fc.subarray(['ssd', 'gpu', 'builder', 'arm'], { maxLength: 2 }),
  cpu: fc.integer({ min: 0, max: 2_000 }),
  mem: fc.integer({ min: 0, max: 4_000 }),
  disk: fc.integer({ min: 0, max: 5_000 }),
  policy: fc.constantFrom('spread' as const, 'pack' as const),
  pending: fc.integer({ min: 0, max: 3 }),
  useBits: fc.boolean(),
});

/** The generated node, alone in a fleet with its recent failure of app-1, if any. */
function generated(n: NodeCase): { fleet: FleetIndex; node: NodeView } {
  const snap = nodeSnapshot({
    status: n.status,
    region: n.region,
    labels: n.labels,
    degraded: n.degraded,
    capacity: res(4_000, 8_000, 10_000),
    allocated: res(n.cpu, n.mem, n.disk),
    maxContainers: 10,
    containerCount: n.containers,
    runningBuilds: n.builds,
    maxBuilds: 3,
    replicasByApp: { 'app-1': n.replicas },
  });
  const recentFailures = n.failedAgo === null ? [] : [{ appId: 'app-1', nodeId: snap.id, at: NOW - n.failedAgo }];
  const fleet = fleetOf([snap], { recentFailures });
  return { fleet, node: viewOf(fleet, snap.id) };
}

describe('chains', () => {
  it('reject with the first failing checker of their arrays, and score with the sum of their rankers', () => {
    fc.assert(
      fc.property(nodeArb, askArb, (n, a) => {
        const { fleet, node } = generated(n);
        for (const [chain, kind] of [[APP_CHAIN, 'app'], [BUILD_CHAIN, 'build']] as const) {
          const ask = askFor({ kind, labels: a.labels, resources: res(a.cpu, a.mem, a.disk), policy: a.policy }, a.useBits ? fleet : undefined);
          let expected: string | null = null;
          for (const checker of chain.checkers) {
            expected = checker.check(node, ask, a.pending);
            if (expected !== null) break;
          }
          expect(chain.reject(node, ask, a.pending)).toBe(expected);
          const sum = chain.rankers.reduce((s, r) => s + r.score(node, ask, a.pending), 0);
          expect(chain.scoreAbove(node, ask, a.pending, Number.NEGATIVE_INFINITY)).toBeCloseTo(sum, 12);
          expect(chain.breakdown(node, ask, a.pending)).toEqual(Object.fromEntries(chain.rankers.map((r) => [r.name, r.score(node, ask, a.pending)])));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('scoreAbove gives the exact score whenever it beats the floor, and may skip only when it does not', () => {
    let skipped = 0;
    fc.assert(
      fc.property(nodeArb, askArb, fc.double({ min: -1, max: 1, noNaN: true }), (n, a, offset) => {
        const { node } = generated(n);
        for (const [chain, kind] of [[APP_CHAIN, 'app'], [BUILD_CHAIN, 'build']] as const) {
          const ask = askFor({ kind, resources: res(a.cpu, a.mem, a.disk), policy: a.policy });
          const score = chain.scoreAbove(node, ask, a.pending, Number.NEGATIVE_INFINITY);
          // Floors around the score, down to the last few ulps either side.
          for (const floor of [score + offset, score + offset * 1e-12, score - 1e-15, score, score + 1e-15, Number.NEGATIVE_INFINITY]) {
            const got = chain.scoreAbove(node, ask, a.pending, floor);
            if (score > floor) expect(got).toBe(score);
            else if (got === Number.NEGATIVE_INFINITY) skipped += 1;
            else expect(got).toBe(score);
          }
        }
      }),
      { numRuns: 500 },
    );
    // It does skip: otherwise it would be no faster than score.
    expect(skipped).toBeGreaterThan(0);
    const empty = nodeSnapshot({ capacity: res(4_000, 8_000, 10_000) });
    const node = viewOf(fleetOf([empty]), empty.id);
    const ask = askFor({ resources: res(250, 512, 100), policy: 'pack' });
    expect(APP_CHAIN.scoreAbove(node, ask, 0, 0.9)).toBe(Number.NEGATIVE_INFINITY);
    expect(APP_CHAIN.scoreAbove(node, ask, 0, 0)).toBe(APP_CHAIN.scoreAbove(node, ask, 0, Number.NEGATIVE_INFINITY));
  });
});
