export { createScheduler, MAX_REPLICAS_PER_PLAN, type Scheduler, type SchedulerOptions } from './scheduler';
export { FleetIndex, type AllocationRef, type FleetIndexOptions, type LivenessUpdate } from './fleet-index';
export { createRng } from './prng';
export { formatFailure } from './explain';
export type {
  Ask,
  BuildRequest,
  FeasibilityChecker,
  FleetView,
  NodeSnapshot,
  NodeView,
  Placement,
  PlacementFailure,
  PlacementPlan,
  PlacementPolicy,
  PlacementRequest,
  Plan,
  Ranker,
  ReasonCount,
  RecentFailure,
  RegionView,
  Resources,
  Rng,
  Snapshot,
  WorkKind,
} from './types';
