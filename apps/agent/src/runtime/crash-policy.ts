// When a crashed container is restarted, and when the agent gives up (crash-loop). Pure.

export interface CrashPolicy {
  /** restarts are counted over this window */
  windowMs: number;
  /** restarts allowed in the window; the exit that would need one more marks a crash loop */
  maxRestarts: number;
  /** delay before the first restart, doubled for each restart already in the window */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Issue 5: more than 3 restarts in 5 minutes is a crash loop. */
export const DEFAULT_CRASH_POLICY: CrashPolicy = { windowMs: 5 * 60_000, maxRestarts: 3, backoffBaseMs: 1_000, backoffMaxMs: 30_000 };

export type CrashDecision = { kind: 'crash-loop'; restartsInWindow: number } | { kind: 'restart' } | { kind: 'wait'; untilMs: number };

/** `recentRestarts`: epoch ms of the agent's earlier restarts of this allocation. */
export function crashDecision(recentRestarts: readonly number[], exitedAt: number | undefined, now: number, policy: CrashPolicy): CrashDecision {
  const inWindow = restartsInWindow(recentRestarts, now, policy).length;
  if (inWindow >= policy.maxRestarts) return { kind: 'crash-loop', restartsInWindow: inWindow };
  const delay = Math.min(policy.backoffBaseMs * 2 ** inWindow, policy.backoffMaxMs);
  const at = (exitedAt ?? now) + delay;
  return at <= now ? { kind: 'restart' } : { kind: 'wait', untilMs: at };
}

export function restartsInWindow(recentRestarts: readonly number[], now: number, policy: CrashPolicy): number[] {
  return recentRestarts.filter((t) => now - t < policy.windowMs);
}
