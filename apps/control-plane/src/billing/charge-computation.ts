// What one app owes for one hour, decided from times alone (no database, no clock), so every rule
// here is table-tested in charge-computation.test.ts.
//
// What is counted: each replica (allocation) of the app from its placement (`created_at`: its
// node's capacity is reserved for it from then) to its retirement (`stopped_at`), clipped to the
// hour, minus the times its desired status was `stopped` (allocation_pauses: the app was stopped by
// its owner or suspended). `started_at` is not used: the agent rewrites it on every container
// restart and leaves it empty while an image is pulled, so it would bill less than was reserved.
// Replicas add up: two replicas for 30 minutes are one replica-hour.
//
// Rounding: the app's replica-milliseconds of the hour are floored to whole seconds (pro rata to
// the second, never billing a fraction the customer did not use), then
// amount = round-half-up(hourly price × seconds / 3600), once per (app, hour), in integers.
import { HOUR_MS } from './billing-hour';

export interface Interval {
  from: Date;
  /** null: still open */
  to: Date | null;
}

export interface AllocationLife {
  createdAt: Date;
  /** retirement; null while live */
  stoppedAt: Date | null;
  /** the times its desired status was stopped */
  pauses: readonly Interval[];
}

/** Milliseconds the allocation ran (placed, not retired, not paused) within [hour, hour + 1 h). */
export function runningMsInHour(a: AllocationLife, hour: Date): number {
  const lo = Math.max(hour.getTime(), a.createdAt.getTime());
  const hi = Math.min(hour.getTime() + HOUR_MS, a.stoppedAt ? a.stoppedAt.getTime() : Infinity);
  if (hi <= lo) return 0;
  // Pauses may overlap each other (a repeated stop): subtract their union, not their sum.
  const clipped = a.pauses
    .map((p) => [Math.max(p.from.getTime(), lo), Math.min(p.to ? p.to.getTime() : Infinity, hi)] as const)
    .filter(([f, t]) => t > f)
    .sort((x, y) => x[0] - y[0]);
  let paused = 0;
  let end = lo;
  for (const [f, t] of clipped) {
    if (t <= end) continue;
    paused += t - Math.max(f, end);
    end = t;
  }
  return hi - lo - paused;
}

/** Whole replica-seconds an app's allocations ran in the hour. */
export function replicaSecondsInHour(allocations: readonly AllocationLife[], hour: Date): number {
  const ms = allocations.reduce((sum, a) => sum + runningMsInHour(a, hour), 0);
  return Math.floor(ms / 1000);
}

/** round-half-up(price × seconds / 3600), exact in integers (bigint: price × seconds may pass 2^53). */
export function chargeAmount(hourlyPrice: number, replicaSeconds: number): number {
  if (!Number.isSafeInteger(hourlyPrice) || hourlyPrice < 0) throw new RangeError(`hourly price ${hourlyPrice}`);
  if (!Number.isSafeInteger(replicaSeconds) || replicaSeconds < 0) throw new RangeError(`replica seconds ${replicaSeconds}`);
  const product = BigInt(hourlyPrice) * BigInt(replicaSeconds);
  return Number((product * 2n + 3600n) / 7200n);
}
