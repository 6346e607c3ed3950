// The node's usage as heartbeats carry it. A regular heartbeat measures anew; an early one (sent
// because allocation states changed, early-report.ts) carries the last measurement instead of
// waiting 40-250 ms for a new one: what the control plane needs from it is the states, at once.
import type { NodeUsage } from '@karvon/protocol';

export function createUsageSource(measure: () => Promise<NodeUsage>) {
  let last: NodeUsage | undefined;
  return {
    async forHeartbeat(early: boolean): Promise<NodeUsage> {
      if (early && last) return last;
      last = await measure();
      return last;
    },
  };
}
