// Which live allocations of a settled app (no deploy in progress) are surplus, decided in pure code.
// The invariant: a running app with N replicas has exactly N live replicas, all of its current
// release. Each path that retires (a rollout that succeeds, fails or is superseded; a move called
// off) is meant to keep it, but the soak (issue 12) found histories where it broke — replacements
// outliving what they replaced — so this is the safeguard that makes it hold whatever the history.
//
// A replica is a unit: an allocation plus the moves in flight off it (its live replacements,
// transitively); a unit is kept or retired whole and counts once. Kept: the N best units, ranked
// current release first, then healthy, then placed by the current deploy, then newest. The health
// gate: a healthy surplus unit stays while fewer than N kept units are healthy, so trimming never
// lowers what serves below N before the kept ones are up. An app with no current release (every
// deploy failed) should serve nothing: all of its live allocations are surplus.

export interface SurplusAllocation {
  id: string;
  releaseId: string | null;
  deployId: string | null;
  /** as the agent last reported it */
  actualStatus: string;
  /** the allocation this one replaces (a drain or failover move), when set */
  replaces: string | null;
  createdAt: number;
}

export interface SurplusInput {
  replicas: number;
  currentReleaseId: string | null;
  currentDeployId: string | null;
  /** the app's live allocations (stopped_at is null) */
  live: readonly SurplusAllocation[];
}

export interface SurplusDecision {
  /** every allocation to retire, moves in flight included */
  retire: string[];
  /** roots of the units kept as the app's replicas */
  keep: string[];
  /** roots of healthy surplus units kept until the kept ones are healthy */
  held: string[];
}

export interface ReplicaUnit {
  root: SurplusAllocation;
  members: string[];
  healthy: boolean;
  current: boolean;
  ofCurrentDeploy: boolean;
  newest: number;
}

/** Groups live allocations into units: a root (its original is not live) and its live replacements. */
export function replicaUnits(live: readonly SurplusAllocation[], currentReleaseId: string | null, currentDeployId: string | null): ReplicaUnit[] {
  const byId = new Map(live.map((a) => [a.id, a]));
  const rootOf = (a: SurplusAllocation): SurplusAllocation => {
    const seen = new Set<string>();
    let at = a;
    for (;;) {
      seen.add(at.id);
      const up = at.replaces === null ? undefined : byId.get(at.replaces);
      // A cycle cannot come from the planner (a replacement is newer than its original); stop anyway.
      if (!up || seen.has(up.id)) return at;
      at = up;
    }
  };
  const units = new Map<string, ReplicaUnit>();
  for (const a of live) {
    const root = rootOf(a);
    let u = units.get(root.id);
    if (!u) {
      u = {
        root,
        members: [],
        healthy: false,
        current: currentReleaseId !== null && root.releaseId === currentReleaseId,
        ofCurrentDeploy: currentDeployId !== null && root.deployId === currentDeployId,
        newest: root.createdAt,
      };
      units.set(root.id, u);
    }
    u.members.push(a.id);
    if (a.actualStatus === 'healthy') u.healthy = true;
    u.newest = Math.max(u.newest, a.createdAt);
  }
  return [...units.values()];
}

const better = (a: ReplicaUnit, b: ReplicaUnit): number =>
  Number(b.current) - Number(a.current) ||
  Number(b.healthy) - Number(a.healthy) ||
  Number(b.ofCurrentDeploy) - Number(a.ofCurrentDeploy) ||
  b.newest - a.newest ||
  (a.root.id < b.root.id ? -1 : a.root.id > b.root.id ? 1 : 0);

export function decideSurplus(input: SurplusInput): SurplusDecision {
  const units = replicaUnits(input.live, input.currentReleaseId, input.currentDeployId);
  if (input.currentReleaseId === null) return { retire: units.flatMap((u) => u.members), keep: [], held: [] };
  const ranked = [...units].sort(better);
  const keep = ranked.slice(0, Math.max(0, input.replicas));
  const surplus = ranked.slice(keep.length);
  let missingHealthy = Math.max(0, input.replicas - keep.filter((u) => u.healthy).length);
  const held: ReplicaUnit[] = [];
  const retire: ReplicaUnit[] = [];
  for (const u of surplus) {
    if (u.healthy && missingHealthy > 0) {
      held.push(u);
      missingHealthy--;
    } else retire.push(u);
  }
  return { retire: retire.flatMap((u) => u.members), keep: keep.map((u) => u.root.id), held: held.map((u) => u.root.id) };
}
