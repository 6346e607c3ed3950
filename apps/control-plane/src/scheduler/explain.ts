// Reasons: counted per node, ordered, and rendered as one line an operator can act on,
// "0 of 3 nodes in tashkent-1: 2 insufficient memory, 1 draining".
import type { Chain } from './chains';
import { reasonRank } from './feasibility';
import type { Ask, NodeView, ReasonCount } from './types';

/** Counts reasons. */
export class ReasonTally {
  private readonly reasons: string[] = [];
  private readonly counts: number[] = [];
  total = 0;

  add(reason: string): void {
    this.total += 1;
    // A handful of distinct reasons at most: a linear scan beats a Map here.
    for (let i = 0; i < this.reasons.length; i++) {
      if (this.reasons[i] === reason) {
        this.counts[i]! += 1;
        return;
      }
    }
    this.reasons.push(reason);
    this.counts.push(1);
  }

  /** Largest count first; ties in chain order, then by name. */
  toCounts(): ReasonCount[] {
    const out: ReasonCount[] = [];
    // An insertion sort: a handful of reasons, most of them in order already.
    for (let i = 0; i < this.reasons.length; i++) {
      const item = { reason: this.reasons[i]!, count: this.counts[i]! };
      let j = i;
      while (j > 0 && precedes(item, out[j - 1]!)) {
        out[j] = out[j - 1]!;
        j -= 1;
      }
      out[j] = item;
    }
    return out;
  }
}

function precedes(a: ReasonCount, b: ReasonCount): boolean {
  if (a.count !== b.count) return a.count > b.count;
  const rank = reasonRank(a.reason) - reasonRank(b.reason);
  return rank !== 0 ? rank < 0 : a.reason < b.reason;
}

/**
 * Runs the whole chain over every node of the region. Only failures take this O(region) path:
 * an operator needs a reason for every node, and the capped scan has already visited every node
 * that could fit, so the extra pass changes no decision.
 */
export function explainRegion(
  chain: Chain,
  nodes: readonly NodeView[],
  ask: Ask,
  pendingOn: (node: NodeView) => number,
): { feasible: number; reasons: ReasonCount[] } {
  const tally = new ReasonTally();
  let feasible = 0;
  for (const node of nodes) {
    const reason = chain.reject(node, ask, pendingOn(node));
    if (reason === null) feasible += 1;
    else tally.add(reason);
  }
  return { feasible, reasons: tally.toCounts() };
}

export interface FailureSummary {
  region: string;
  feasible: number;
  nodesInRegion: number;
  reasons: readonly ReasonCount[];
  /** 0-based index of the replica that did not fit, and how many the plan asked for */
  replica: number;
  requested: number;
}

/**
 * "0 of 3 nodes in tashkent-1: 2 insufficient memory, 1 draining". Multi-replica plans say which
 * replica stopped them: "replica 3 of 3: 0 of 3 nodes in tashkent-1: 1 insufficient memory, …".
 */
export function formatFailure(s: FailureSummary): string {
  const prefix = s.requested > 1 ? `replica ${s.replica + 1} of ${s.requested}: ` : '';
  const detail = s.nodesInRegion === 0 ? 'the region has no nodes' : s.reasons.map((r) => `${r.count} ${r.reason}`).join(', ');
  return `${prefix}${s.feasible} of ${s.nodesInRegion} nodes in ${s.region}: ${detail}`;
}
