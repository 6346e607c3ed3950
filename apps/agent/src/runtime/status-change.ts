// What the control plane acts on in a heartbeat's allocation list: each allocation's state and
// upstream (routes, rollouts and deploy results follow them). When that changes, the agent reports
// at once instead of at the next interval (30 s in production), so a healthy replica is routed in
// about a second. Resource numbers and messages change all the time and wait for the interval.
import type { AllocationStatus } from '@karvon/protocol';

/** A canonical text of what matters in `statuses`: equal texts, nothing to report early. */
export function statusSignature(statuses: readonly AllocationStatus[]): string {
  return statuses
    .map((s) => `${s.allocationId}\u0000${s.state}\u0000${s.upstream ?? ''}`)
    .sort()
    .join('\u0001');
}

/** Remembers the last signature; true when `statuses` differ from it (the first call counts as a change). */
export function createStatusChangeDetector() {
  let last: string | undefined;
  return (statuses: readonly AllocationStatus[]): boolean => {
    const next = statusSignature(statuses);
    const changed = next !== last;
    last = next;
    return changed;
  };
}
