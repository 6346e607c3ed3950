/**
 * Fixed-window counters in memory, one limiter per rule. Per process: with several control planes
 * each enforces its own share, which still bounds guessing to N × limit.
 */
export interface RateLimiter {
  /** counts one hit; answers whether it is allowed and, if not, when to retry */
  hit(key: string): { allowed: boolean; retryAfterSeconds: number };
  reset(key: string): void;
}

export function createRateLimiter(opts: { limit: number; windowMs: number; now?: () => number; maxKeys?: number }): RateLimiter {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key) {
      const t = now();
      let w = windows.get(key);
      if (!w || t - w.start >= opts.windowMs) {
        // Keep memory bounded under a flood of distinct keys: drop the oldest entries.
        if (!w && windows.size >= maxKeys) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
        windows.delete(key);
        w = { start: t, count: 0 };
        windows.set(key, w);
      }
      w.count += 1;
      const allowed = w.count <= opts.limit;
      return { allowed, retryAfterSeconds: allowed ? 0 : Math.ceil((w.start + opts.windowMs - t) / 1000) };
    },
    reset(key) {
      windows.delete(key);
    },
  };
}
