// An early heartbeat when the runtime's allocation states change (runtime/status-change.ts):
// coalesced (changes within `delayMs` make one report) and spaced (never closer than `minGapMs`
// to the previous heartbeat, early or regular), so a flapping app cannot flood the control plane.
export interface EarlyReportOptions {
  delayMs: number;
  minGapMs: number;
  /** sends a heartbeat now */
  beat(): void;
  now?: () => number;
}

export function createEarlyReport(opts: EarlyReportOptions) {
  const now = opts.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let lastBeat = Number.NEGATIVE_INFINITY;
  return {
    /** a heartbeat soon; a request while one is pending joins it */
    request(): void {
      if (timer) return;
      const wait = Math.max(opts.delayMs, lastBeat + opts.minGapMs - now());
      timer = setTimeout(() => {
        timer = undefined;
        opts.beat();
      }, wait);
    },
    /** a heartbeat went out (any kind): the next early one keeps its distance */
    sent(): void {
      lastBeat = now();
    },
    cancel(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
