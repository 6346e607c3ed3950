// Moving allocations off nodes that drain or went offline, decided in pure code. A move places a
// replacement elsewhere in the region and retires the original only once the replacement is
// healthy — the same health gate as a rollout, so a drain drops no request. Offline nodes are
// moved at a bounded rate per region so a region-wide outage does not stampede the survivors.

export interface EvacuationAllocation {
  id: string;
  regionId: string;
  /** the node drains (admin) or is offline past its grace */
  nodeLeaving: boolean;
  /** the app is stopped: nothing serves, nothing to gate on */
  appStopped: boolean;
  /** the release's image exists only on its builder node (no registry): it cannot move */
  pinned: boolean;
  /** a replacement of this allocation, if one lives */
  replacement?: { id: string; status: string } | undefined;
  /** set on a replacement: the allocation it replaces is still live */
  replacesLive?: boolean;
}

export type EvacuationAction =
  | { kind: 'place-replacement'; allocationId: string }
  | { kind: 'retire'; allocationId: string; why: 'replaced' | 'stopped-app' | 'replacement-failed' | 'node-returned' };

const FAILED = new Set(['failed', 'crash-loop']);

export function decideEvacuation(allocations: readonly EvacuationAllocation[], opts: { maxMovesPerRegion: number }): EvacuationAction[] {
  const actions: EvacuationAction[] = [];
  const inFlight = new Map<string, number>();
  for (const a of allocations) {
    if (a.replacement && a.replacement.status !== 'healthy') inFlight.set(a.regionId, (inFlight.get(a.regionId) ?? 0) + 1);
  }
  for (const a of allocations) {
    if (a.replacement) {
      if (!a.nodeLeaving) {
        // The node came back (or was re-activated) before the move finished: keep the original.
        if (a.replacement.status !== 'healthy') actions.push({ kind: 'retire', allocationId: a.replacement.id, why: 'node-returned' });
        else actions.push({ kind: 'retire', allocationId: a.id, why: 'replaced' });
      } else if (a.replacement.status === 'healthy') actions.push({ kind: 'retire', allocationId: a.id, why: 'replaced' });
      else if (FAILED.has(a.replacement.status)) actions.push({ kind: 'retire', allocationId: a.replacement.id, why: 'replacement-failed' });
      continue;
    }
    if (!a.nodeLeaving) continue;
    if (a.appStopped) {
      actions.push({ kind: 'retire', allocationId: a.id, why: 'stopped-app' });
      continue;
    }
    if (a.pinned) continue;
    const n = inFlight.get(a.regionId) ?? 0;
    if (n >= opts.maxMovesPerRegion) continue;
    inFlight.set(a.regionId, n + 1);
    actions.push({ kind: 'place-replacement', allocationId: a.id });
  }
  return actions;
}
