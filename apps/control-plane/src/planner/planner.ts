import type { Db } from '../db/connect';
import { FleetIndex, createScheduler, type PlacementFailure, type PlacementPolicy, type Rng, type Scheduler } from '../scheduler';
import type { Resources } from '../nodes/capacity';
import type { AllocationSpec } from './allocation-spec';
import { PlanConflict, commitPlacements, type CommittedAllocation } from './commit-placements';
import { loadRegionSnapshot } from './region-snapshot';

export interface PlaceReplicasRequest {
  appId: string;
  releaseId: string | null;
  deployId?: string | null;
  /** the allocation the (single) replica replaces: a drain or failover move */
  replaces?: string | null;
  region: string;
  resources: Resources;
  replicas: number;
  labels?: string[];
  policy?: PlacementPolicy;
  /** only these nodes may take the replicas (an image built without a registry lives on its builder) */
  onlyNodes?: readonly string[];
  spec: AllocationSpec;
}

export interface PlaceBuildRequest {
  buildId: string;
  appId: string;
  region: string;
  limits: Resources;
}

export type PlaceResult =
  | { ok: true; allocations: CommittedAllocation[]; attempts: number }
  | { ok: false; failure: PlacementFailure; attempts: number };

export interface Planner {
  placeReplicas(request: PlaceReplicasRequest): Promise<PlaceResult>;
  /**
   * Chooses a builder node for a build (builder label, per-node build concurrency). Nothing is
   * reserved: the build row taking the node (status running) is what later decisions count.
   */
  chooseBuildNode(request: PlaceBuildRequest): Promise<{ ok: true; nodeId: string } | { ok: false; failure: PlacementFailure }>;
}

/** Re-plans this many times when a concurrent plan took the capacity first. */
const MAX_ATTEMPTS = 5;

/**
 * Decide with the pure scheduler over a fresh snapshot, commit with one transaction that
 * re-checks capacity; on a conflict, decide again against a newer snapshot.
 */
export function createPlanner(deps: { db: Db; rng: Rng; now?: () => number; scheduler?: Scheduler }): Planner {
  const scheduler = deps.scheduler ?? createScheduler();
  const now = deps.now ?? Date.now;
  return {
    async placeReplicas(request) {
      for (let attempt = 1; ; attempt++) {
        const snapshot = await loadRegionSnapshot(deps.db, request.region, request.appId, now());
        if (request.onlyNodes) {
          const allowed = new Set(request.onlyNodes);
          snapshot.nodes = snapshot.nodes.filter((n) => allowed.has(n.id));
        }
        const plan = scheduler.place(
          FleetIndex.fromSnapshot(snapshot),
          {
            appId: request.appId,
            region: request.region,
            resources: request.resources,
            replicas: request.replicas,
            ...(request.labels ? { labels: request.labels } : {}),
            ...(request.policy ? { policy: request.policy } : {}),
          },
          deps.rng,
        );
        if (!plan.ok) return { ok: false, failure: plan, attempts: attempt };
        try {
          const allocations = await commitPlacements(deps.db, [
            { appId: request.appId, releaseId: request.releaseId, deployId: request.deployId ?? null, replaces: request.replaces ?? null, resources: request.resources, nodeIds: plan.placements.map((p) => p.nodeId), spec: request.spec },
          ]);
          return { ok: true, allocations, attempts: attempt };
        } catch (e) {
          if (!(e instanceof PlanConflict || isTransient(e)) || attempt >= MAX_ATTEMPTS) throw e;
        }
      }
    },
    async chooseBuildNode(request) {
      const snapshot = await loadRegionSnapshot(deps.db, request.region, request.appId, now());
      const plan = scheduler.placeBuild(FleetIndex.fromSnapshot(snapshot), request, deps.rng);
      if (!plan.ok) return { ok: false, failure: plan };
      return { ok: true, nodeId: plan.placements[0]!.nodeId };
    },
  };
}

/** Deadlocks and serialization failures roll the transaction back whole: deciding again is safe. */
function isTransient(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
