// Tier quotas at the moment of a change: the owner's usage now plus the change, against the
// limits of the owner's tier (quotas/). Refusal is 422 QUOTA_EXCEEDED naming the limit.
import type { Db } from '../db/connect';
import { assertQuota, type QuotaChange } from '../quotas/check-quota';
import { loadUsage } from '../quotas/load-usage';

export interface QuotaGate {
  check(userId: string, change: QuotaChange): Promise<void>;
}

// Checked before the write rather than in its transaction: two concurrent creations by one user
// can pass together and exceed a limit by one. Quotas guard capacity planning, not money, so the
// simpler path is taken; the scheduler still refuses anything the fleet cannot hold.
export function createQuotaGate(db: Db): QuotaGate {
  return {
    async check(userId, change) {
      const usage = await loadUsage(db, userId);
      assertQuota(usage, usage.tier, change);
    },
  };
}
