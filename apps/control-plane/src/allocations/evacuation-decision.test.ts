import { describe, expect, it } from 'vitest';
import { decideEvacuation, type EvacuationAllocation } from './evacuation-decision';

const a = (id: string, over: Partial<EvacuationAllocation> = {}): EvacuationAllocation => ({ id, regionId: 'r1', nodeLeaving: true, appStopped: false, pinned: false, ...over });

describe('decideEvacuation', () => {
  it('places a replacement for each allocation of a leaving node, bounded per region', () => {
    const actions = decideEvacuation([a('a1'), a('a2'), a('a3'), a('b1', { regionId: 'r2' })], { maxMovesPerRegion: 2 });
    expect(actions).toEqual([
      { kind: 'place-replacement', allocationId: 'a1' },
      { kind: 'place-replacement', allocationId: 'a2' },
      { kind: 'place-replacement', allocationId: 'b1' },
    ]);
  });

  it('counts moves in flight against the bound', () => {
    const actions = decideEvacuation([a('a1', { replacement: { id: 'r1', status: 'starting' } }), a('a2'), a('a3')], { maxMovesPerRegion: 2 });
    expect(actions).toEqual([{ kind: 'place-replacement', allocationId: 'a2' }]);
  });

  it('retires the original only once its replacement is healthy', () => {
    expect(decideEvacuation([a('a1', { replacement: { id: 'r1', status: 'starting' } })], { maxMovesPerRegion: 5 })).toEqual([]);
    expect(decideEvacuation([a('a1', { replacement: { id: 'r1', status: 'healthy' } })], { maxMovesPerRegion: 5 })).toEqual([{ kind: 'retire', allocationId: 'a1', why: 'replaced' }]);
  });

  it('drops a failed replacement (the next pass tries again) and keeps the original', () => {
    expect(decideEvacuation([a('a1', { replacement: { id: 'r1', status: 'crash-loop' } })], { maxMovesPerRegion: 5 })).toEqual([{ kind: 'retire', allocationId: 'r1', why: 'replacement-failed' }]);
  });

  it('cancels an unfinished move when the node returns', () => {
    expect(decideEvacuation([a('a1', { nodeLeaving: false, replacement: { id: 'r1', status: 'starting' } })], { maxMovesPerRegion: 5 })).toEqual([{ kind: 'retire', allocationId: 'r1', why: 'node-returned' }]);
  });

  it('retires a stopped app’s replica without a move, and never moves a pinned release', () => {
    expect(decideEvacuation([a('a1', { appStopped: true }), a('a2', { pinned: true })], { maxMovesPerRegion: 5 })).toEqual([{ kind: 'retire', allocationId: 'a1', why: 'stopped-app' }]);
  });

  it('leaves allocations of staying nodes alone', () => {
    expect(decideEvacuation([a('a1', { nodeLeaving: false })], { maxMovesPerRegion: 5 })).toEqual([]);
  });
});
