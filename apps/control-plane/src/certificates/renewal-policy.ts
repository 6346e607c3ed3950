// When to order a certificate, decided in pure code: renewal at a fraction of the lifetime left,
// exponential backoff after failures, and the CA's limits counted from our own order log.

export interface CertificateTiming {
  notBefore: Date | null;
  notAfter: Date | null;
}

/** Let's Encrypt's advice: renew when a third of the lifetime is left. */
export const DEFAULT_RENEW_FRACTION = 1 / 3;

/** The moment renewal becomes due; undefined when there is no certificate (ordering is due now). */
export function renewalAt(cert: CertificateTiming, fractionLeft = DEFAULT_RENEW_FRACTION): Date | undefined {
  if (!cert.notAfter) return undefined;
  const notBefore = cert.notBefore ?? cert.notAfter;
  const lifetime = cert.notAfter.getTime() - notBefore.getTime();
  return new Date(cert.notAfter.getTime() - lifetime * fractionLeft);
}

export function isRenewalDue(cert: CertificateTiming, now: Date, fractionLeft = DEFAULT_RENEW_FRACTION): boolean {
  const at = renewalAt(cert, fractionLeft);
  return at === undefined || now.getTime() >= at.getTime();
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** 1 min doubling to 6 h by default: attempts is the number of failures so far (≥ 1). */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 60_000, maxMs: 6 * 3_600_000 };

export function backoffMs(failures: number, b: Backoff = DEFAULT_BACKOFF): number {
  const exp = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(b.maxMs, b.baseMs * 2 ** exp);
}

export interface OrderLimits {
  /** certificates issued for the exact same identifier set per 7 days (Let's Encrypt: 5) */
  issuedPerWeek: number;
  /** failed orders per identifier set per hour (Let's Encrypt: 5 failed validations per hour) */
  failedPerHour: number;
}

export const DEFAULT_ORDER_LIMITS: OrderLimits = { issuedPerWeek: 5, failedPerHour: 5 };

export interface PastOrder {
  outcome: 'pending' | 'issued' | 'failed';
  createdAt: Date;
}

const WEEK = 7 * 86_400_000;
const HOUR = 3_600_000;

/**
 * Whether another order for one identifier set may be placed now, given its orders of the last
 * week; when not, the earliest moment it may. A pending order counts as both (it may yet issue or
 * fail), so a crash mid-order can never let the count slip past the limit.
 */
export function orderBudget(past: readonly PastOrder[], now: Date, limits: OrderLimits = DEFAULT_ORDER_LIMITS): { allowed: true } | { allowed: false; retryAt: Date; reason: string } {
  const t = now.getTime();
  const issued = past.filter((o) => o.outcome !== 'failed' && t - o.createdAt.getTime() < WEEK).map((o) => o.createdAt.getTime()).sort((a, b) => a - b);
  if (issued.length >= limits.issuedPerWeek) {
    // The window frees up when the oldest counted order leaves it.
    const retryAt = new Date(issued[issued.length - limits.issuedPerWeek]! + WEEK);
    return { allowed: false, retryAt, reason: `${issued.length} certificates ordered for these names in the last 7 days (limit ${limits.issuedPerWeek})` };
  }
  const failed = past.filter((o) => o.outcome !== 'issued' && t - o.createdAt.getTime() < HOUR).map((o) => o.createdAt.getTime()).sort((a, b) => a - b);
  if (failed.length >= limits.failedPerHour) {
    const retryAt = new Date(failed[failed.length - limits.failedPerHour]! + HOUR);
    return { allowed: false, retryAt, reason: `${failed.length} failed orders for these names in the last hour (limit ${limits.failedPerHour})` };
  }
  return { allowed: true };
}

/** The key orders are counted under: the sorted, de-duplicated identifiers. */
export const identifierSetKey = (hostnames: readonly string[]) => [...new Set(hostnames)].sort().join(',');
