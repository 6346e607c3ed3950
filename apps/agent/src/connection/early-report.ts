// An early heartbeat when the runtime's allocation states change (runtime/status-change.ts):
// coalesced (changes within `delayMs` make one report) and budgeted: up to `burst` early reports
// go out at once, then one per `minGapMs` on average (a token bucket), so a rollout's changes
// (a replica starting → healthy, the old one going) are reported without waiting, and a flapping
// app cannot flood the control plane.
export interface EarlyReportOptions {
  delayMs: number;
  /** the average spacing of early heartbeats once the burst is spent */
  minGapMs: number;
  /** early heartbeats that may go out back to back (3 unless given) */
  burst?: number;
  /** sends a heartbeat now */
  beat(): void;
  now?: () => number;
}

/**
 * One rollout on a node changes states about four times (the new replica starting, then healthy;
 * the old one stopping, then gone): a burst of 5 reports them all without waiting, even when
 * rollouts follow each other within seconds.
 */
const DEFAULT_BURST = 5;

export function createEarlyReport(opts: EarlyReportOptions) {
  const now = opts.now ?? Date.now;
  const burst = Math.max(1, opts.burst ?? DEFAULT_BURST);
  let timer: NodeJS.Timeout | undefined;
  let tokens = burst;
  let filledAt = now();

  /** Adds the tokens earned since the last look; returns ms until one is there (0: one is). */
  const refill = (): number => {
    const t = now();
    const earned = Math.floor((t - filledAt) / opts.minGapMs);
    if (earned > 0) {
      tokens = Math.min(burst, tokens + earned);
      filledAt = tokens === burst ? t : filledAt + earned * opts.minGapMs;
    }
    return tokens > 0 ? 0 : filledAt + opts.minGapMs - t;
  };

  return {
    /** a heartbeat soon; a request while one is pending joins it */
    request(): void {
      if (timer) return;
      const wait = Math.max(opts.delayMs, refill());
      timer = setTimeout(() => {
        timer = undefined;
        refill();
        tokens = Math.max(0, tokens - 1);
        opts.beat();
      }, wait);
    },
    /** a heartbeat went out (any kind); only early ones spend the budget, so nothing to do */
    sent(): void {
      // Regular heartbeats come at the interval the control plane chose: they do not count here.
    },
    cancel(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
