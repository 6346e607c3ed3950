// Reasons: counted per node, ordered, and rendered as one line an operator can act on,
// "0 of 3 nodes in tashkent-1: 2 insufficient memory, 1 draining".
import type { Chain } from './chains';
import { REASON, reasonRank } from './feasibility';
import type { PendingPlacements } from './select';
import { popcount, slotOf, wordsFor } from './slot-sets';
import type { Ask, ReasonCount, RegionView } from './types';

const NO_LABELS: readonly string[] = [];

/** Counts reasons. */
export class ReasonTally {
  private readonly reasons: string[] = [];
  private readonly counts: number[] = [];
  total = 0;

  add(reason: string): void {
    this.addMany(reason, 1);
  }

  addMany(reason: string, count: number): void {
    if (count === 0) return;
    this.total += count;
    // A handful of distinct reasons at most: a linear scan beats a Map here.
    for (let i = 0; i < this.reasons.length; i++) {
      if (this.reasons[i] === reason) {
        this.counts[i]! += count;
        return;
      }
    }
    this.reasons.push(reason);
    this.counts.push(count);
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
 * A reason for every node of the region, as the chain gives them. Only failures take this path:
 * an operator needs a reason for every node, and the capped scan has already visited every node
 * that could fit, so it changes no decision.
 *
 * Most nodes are counted by their slot bits rather than read: a node that is online, not
 * degraded and not part of this plan fails at its first missing label, else at CPU when it is
 * outside the request's CPU set, which holds every node where the CPU fits. The nodes left (not
 * taking work, in the CPU set, or already chosen by this plan) run the chain itself. The counts
 * are the chain's over every node (explain.test.ts checks them against it). This rests on the
 * chain's order, status, region, labels, degraded, then CPU, which both chains share, and on
 * every node of the region being in it.
 */
export function explainRegion(chain: Chain, region: RegionView, ask: Ask, pending: PendingPlacements): { feasible: number; reasons: ReasonCount[] } {
  const tally = new ReasonTally();
  const nodes = region.nodes;
  const present = region.withLabels(NO_LABELS);
  const open = region.takingWork();
  const cpu = region.cpuAtLeast(ask.resources.cpuMillicores);
  const labels = ask.labels.map((label) => region.withLabels([label]));
  const chosen = pending.nodes();
  let feasible = 0;
  const words = wordsFor(nodes.length);
  for (let w = 0; w < words; w++) {
    const here = present[w]!;
    const takes = open[w]!;
    let chosenHere = 0;
    for (let i = 0; i < chosen.length; i++) if (chosen[i]!.slot >>> 5 === w) chosenHere |= 1 << (chosen[i]!.slot & 31);
    // Online, not degraded, not chosen: the first missing label, else CPU outside the set.
    let counted = takes & ~chosenHere;
    for (let i = 0; i < labels.length; i++) {
      const carrying = labels[i]![w]!;
      tally.addMany(ask.missingLabelReasons[i]!, popcount(counted & ~carrying));
      counted &= carrying;
    }
    tally.addMany(REASON.cpu, popcount(counted & ~cpu[w]!));
    let read = (here & ~takes) | chosenHere | (counted & cpu[w]!);
    while (read !== 0) {
      const low = read & -read;
      read ^= low;
      const node = nodes[slotOf(w, low)]!;
      const reason = chain.reject(node, ask, pending.countOn(node));
      if (reason === null) feasible += 1;
      else tally.add(reason);
    }
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

