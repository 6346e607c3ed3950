// Per-user limits by tier (users.tier). Pure data: the checks are in check-quota.ts.
//
// Sizing: free fits a hobby project on a shared node (2 vCPU / 2 GiB in total); standard is a
// small team's production (16 vCPU / 32 GiB); business is a department (128 vCPU / 256 GiB).
// CPU and memory count plan size × replicas over every app the user has, running or stopped, so
// starting a stopped app never needs a second check.

export const TIER_NAMES = ['free', 'standard', 'business'] as const;
export type TierName = (typeof TIER_NAMES)[number];

export interface TierLimits {
  maxProjects: number;
  maxApps: number;
  maxCpuMillicores: number;
  maxMemoryMb: number;
  maxReplicasPerApp: number;
}

export const TIER_LIMITS: Readonly<Record<TierName, Readonly<TierLimits>>> = Object.freeze({
  free: Object.freeze({ maxProjects: 3, maxApps: 5, maxCpuMillicores: 2_000, maxMemoryMb: 2_048, maxReplicasPerApp: 2 }),
  standard: Object.freeze({ maxProjects: 20, maxApps: 50, maxCpuMillicores: 16_000, maxMemoryMb: 32_768, maxReplicasPerApp: 10 }),
  business: Object.freeze({ maxProjects: 100, maxApps: 500, maxCpuMillicores: 128_000, maxMemoryMb: 262_144, maxReplicasPerApp: 50 }),
});

/**
 * A tier name read from the database. An unknown name (a typo in a manual update, a tier removed
 * from this table) gets the smallest limits rather than none.
 */
export function tierOf(name: string | null | undefined): TierName {
  return (TIER_NAMES as readonly string[]).includes(name ?? '') ? (name as TierName) : 'free';
}
