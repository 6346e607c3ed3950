import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideSurplus, replicaUnits, type SurplusAllocation, type SurplusInput } from './surplus-decision';

let t = 0;
const a = (id: string, over: Partial<SurplusAllocation> = {}): SurplusAllocation => ({
  id,
  releaseId: 'rel2',
  deployId: 'd2',
  actualStatus: 'healthy',
  replaces: null,
  createdAt: ++t,
  ...over,
});
const input = (live: SurplusAllocation[], replicas = 2): SurplusInput => ({ replicas, currentReleaseId: 'rel2', currentDeployId: 'd2', live });

describe('decideSurplus', () => {
  it('retires nothing when the app has exactly its replicas of the current release', () => {
    expect(decideSurplus(input([a('x'), a('y')]))).toEqual({ retire: [], keep: ['y', 'x'], held: [] });
  });

  it('retires replicas of other releases once the current ones are healthy', () => {
    const d = decideSurplus(input([a('old1', { releaseId: 'rel1', deployId: 'd1' }), a('x'), a('y'), a('old2', { releaseId: 'rel1', deployId: 'd1' })]));
    expect(d.retire.sort()).toEqual(['old1', 'old2']);
  });

  it('holds healthy replicas of another release while the kept ones are not healthy yet', () => {
    const d = decideSurplus(input([a('old1', { releaseId: 'rel1' }), a('old2', { releaseId: 'rel1' }), a('x', { actualStatus: 'starting' }), a('y')]));
    expect(d.keep.sort()).toEqual(['x', 'y']);
    expect(d.held).toHaveLength(1);
    expect(d.retire).toHaveLength(1);
  });

  it('keeps the healthy ones of the current release and trims the rest beyond the count', () => {
    const d = decideSurplus(input([a('x', { actualStatus: 'starting' }), a('y'), a('z'), a('w', { actualStatus: 'pending' })]));
    expect(d.keep.sort()).toEqual(['y', 'z']);
    expect(d.retire.sort()).toEqual(['w', 'x']);
  });

  it('counts a move in flight once and retires it with its original', () => {
    const live = [a('x'), a('y'), a('z', { deployId: 'd1', actualStatus: 'starting' }), a('z2', { deployId: 'd1', replaces: 'z', actualStatus: 'starting' })];
    expect(replicaUnits(live, 'rel2', 'd2')).toHaveLength(3);
    expect(decideSurplus(input(live)).retire.sort()).toEqual(['z', 'z2']);
  });

  it('fills up with another release rather than drop below the count', () => {
    const d = decideSurplus(input([a('old1', { releaseId: 'rel1' }), a('x')]));
    expect(d.retire).toEqual([]);
  });

  it('retires everything of an app that has no current release', () => {
    expect(decideSurplus({ replicas: 2, currentReleaseId: null, currentDeployId: null, live: [a('x'), a('y', { replaces: 'x' })] }).retire.sort()).toEqual(['x', 'y']);
  });
});

// Random histories: allocations of a few releases and deploys, in any reported state, some of them
// moves in flight (replacing an earlier live one).
const STATUSES = ['pending', 'starting', 'running', 'healthy', 'healthy', 'unhealthy', 'failed', 'crash-loop', 'stopped'];
const historyArb = fc
  .record({
    replicas: fc.integer({ min: 0, max: 5 }),
    allocs: fc.array(
      fc.record({
        release: fc.constantFrom('rel1', 'rel2', 'rel3'),
        deploy: fc.constantFrom('d1', 'd2', 'd3', null),
        status: fc.constantFrom(...STATUSES),
        replacesOffset: fc.option(fc.nat(), { nil: undefined }),
      }),
      { maxLength: 14 },
    ),
  })
  .map(({ replicas, allocs }) => {
    const live: SurplusAllocation[] = [];
    allocs.forEach((x, i) => {
      const original = x.replacesOffset !== undefined && i > 0 ? live[x.replacesOffset % i] : undefined;
      live.push({
        id: `a${String(i).padStart(2, '0')}`,
        // a replacement runs its original's release under its deploy
        releaseId: original ? original.releaseId : x.release,
        deployId: original ? original.deployId : x.deploy,
        actualStatus: x.status,
        replaces: original ? original.id : null,
        createdAt: i,
      });
    });
    return { replicas, currentReleaseId: 'rel2', currentDeployId: 'd2', live } satisfies SurplusInput;
  });

const apply = (i: SurplusInput, retire: readonly string[]): SurplusInput => {
  const gone = new Set(retire);
  return { ...i, live: i.live.filter((x) => !gone.has(x.id)) };
};
const unitsOf = (i: SurplusInput) => replicaUnits(i.live, i.currentReleaseId, i.currentDeployId);

describe('decideSurplus over random histories', () => {
  it('retires units whole, never below the count, never lowering what serves below the count', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const before = unitsOf(h);
        const d = decideSurplus(h);
        const after = unitsOf(apply(h, d.retire));
        const retired = new Set(d.retire);
        // whole units: a unit is either entirely retired or entirely kept
        for (const u of before) expect(new Set(u.members.map((m) => retired.has(m))).size).toBeLessThanOrEqual(1);
        expect(after.length).toBeGreaterThanOrEqual(Math.min(h.replicas, before.length));
        expect(after.filter((u) => u.healthy).length).toBeGreaterThanOrEqual(Math.min(h.replicas, before.filter((u) => u.healthy).length));
        // no more current-release units than the count, and the healthy ones preferred
        const current = after.filter((u) => u.current);
        expect(current.length).toBe(Math.min(h.replicas, before.filter((u) => u.current).length));
        const healthyCurrentBefore = before.filter((u) => u.current && u.healthy).length;
        expect(current.filter((u) => u.healthy).length).toBe(Math.min(h.replicas, healthyCurrentBefore));
        // what stays beyond the count is only healthy units held for kept ones not healthy yet
        expect(after.length).toBe(Math.min(h.replicas, before.length) + d.held.length);
        const kept = after.filter((u) => d.keep.includes(u.root.id));
        expect(d.held.length).toBeLessThanOrEqual(Math.max(0, h.replicas - kept.filter((u) => u.healthy).length));
        for (const id of d.held) expect(after.find((u) => u.root.id === id)?.healthy).toBe(true);
      }),
      { numRuns: 500, seed: 12 },
    );
  });

  it('converges: once the kept replicas are healthy, exactly the count remains, of the current release when it has enough', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const first = apply(h, decideSurplus(h).retire);
        // the agents report the kept ones healthy
        const healthy: SurplusInput = { ...first, live: first.live.map((x) => ({ ...x, actualStatus: 'healthy' })) };
        const settled = apply(healthy, decideSurplus(healthy).retire);
        const units = unitsOf(settled);
        expect(units.length).toBe(Math.min(h.replicas, unitsOf(h).length));
        if (unitsOf(h).filter((u) => u.current).length >= h.replicas) expect(units.every((u) => u.current)).toBe(true);
        // settled: a further pass changes nothing
        expect(decideSurplus(settled).retire).toEqual([]);
      }),
      { numRuns: 500, seed: 12 },
    );
  });
});
