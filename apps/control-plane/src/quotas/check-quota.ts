import { DomainError } from '../domain/errors';
import { TIER_LIMITS, type TierLimits, type TierName } from './tiers';

/** What a user holds now: live (not deleted) projects and apps, and plan × replicas over those apps. */
export interface Usage {
  projects: number;
  apps: number;
  cpuMillicores: number;
  memoryMb: number;
}

/**
 * What a request would add. Totals are deltas (negative when shrinking); `replicas` is the count
 * one app asks for. A limit only refuses growth: a user above a limit (say, after moving to a
 * smaller tier) can still shrink, delete and scale down.
 */
export interface QuotaChange {
  projects?: number;
  apps?: number;
  cpuMillicores?: number;
  memoryMb?: number;
  replicas?: number;
}

export interface QuotaExceeded {
  limit: keyof TierLimits;
  limitValue: number;
  /** the total (or, for replicas, the count) the change asked for */
  requested: number;
  tier: TierName;
}

type Check = { limit: keyof TierLimits; current: (u: Usage) => number; delta: (c: QuotaChange) => number | undefined };

// Order is the order a caller meets them in the API: containers before resources.
const CHECKS: readonly Check[] = [
  { limit: 'maxProjects', current: (u) => u.projects, delta: (c) => c.projects },
  { limit: 'maxApps', current: (u) => u.apps, delta: (c) => c.apps },
  { limit: 'maxCpuMillicores', current: (u) => u.cpuMillicores, delta: (c) => c.cpuMillicores },
  { limit: 'maxMemoryMb', current: (u) => u.memoryMb, delta: (c) => c.memoryMb },
];

/** The first limit the change would exceed, or undefined when it fits. */
export function checkQuota(usage: Usage, tier: TierName, change: QuotaChange): QuotaExceeded | undefined {
  const limits = TIER_LIMITS[tier];
  if (change.replicas !== undefined && change.replicas > limits.maxReplicasPerApp) {
    return { limit: 'maxReplicasPerApp', limitValue: limits.maxReplicasPerApp, requested: change.replicas, tier };
  }
  for (const c of CHECKS) {
    const delta = c.delta(change) ?? 0;
    if (delta <= 0) continue;
    const requested = c.current(usage) + delta;
    if (requested > limits[c.limit]) return { limit: c.limit, limitValue: limits[c.limit], requested, tier };
  }
  return undefined;
}

/** checkQuota, refusing with 422 QUOTA_EXCEEDED whose details name the limit, its value and the requested total. */
export function assertQuota(usage: Usage, tier: TierName, change: QuotaChange): void {
  const over = checkQuota(usage, tier, change);
  if (!over) return;
  throw new DomainError(
    'QUOTA_EXCEEDED',
    `${over.limit} is ${over.limitValue} on the ${over.tier} tier; this would make ${over.requested}`,
    { limit: over.limit, limitValue: over.limitValue, requested: over.requested, tier: over.tier },
  );
}

/** A plan's per-replica size, as far as quotas care. */
export interface PlanSize {
  cpuMillicores: number;
  memoryMb: number;
}

/**
 * The change of creating an app (no `before`), resizing or scaling one (both), or deleting one
 * (no `after`). Replicas are only checked when they grow.
 */
export function appQuotaChange(after: { plan: PlanSize; replicas: number } | undefined, before?: { plan: PlanSize; replicas: number }): QuotaChange {
  const size = (s: { plan: PlanSize; replicas: number } | undefined) => ({
    cpu: s ? s.plan.cpuMillicores * s.replicas : 0,
    mem: s ? s.plan.memoryMb * s.replicas : 0,
  });
  const a = size(after);
  const b = size(before);
  return {
    apps: (after ? 1 : 0) - (before ? 1 : 0),
    cpuMillicores: a.cpu - b.cpu,
    memoryMb: a.mem - b.mem,
    ...(after && after.replicas > (before?.replicas ?? 0) ? { replicas: after.replicas } : {}),
  };
}
