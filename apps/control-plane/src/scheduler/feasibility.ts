// Feasibility checkers: each answers one question about one node and names the reason when the
// answer is no. They run in the order of the chains below, cheapest and most telling first, so
// a draining node is reported as "draining", not as "insufficient memory".
import type { FeasibilityChecker } from './types';

export const REASON = {
  otherRegion: 'other region',
  degraded: 'degraded',
  cpu: 'insufficient cpu',
  memory: 'insufficient memory',
  disk: 'insufficient disk',
  containers: 'max containers reached',
  buildSlots: 'build slots full',
} as const;

/** Only `online` nodes take new work; the status itself is the reason (suspect, offline, draining, disabled). */
export const statusChecker: FeasibilityChecker = {
  name: 'status',
  check: (node) => (node.status === 'online' ? null : node.status),
};

/** Defensive: the fleet index already scans one region, but a plan must never leave it. */
export const regionChecker: FeasibilityChecker = {
  name: 'region',
  check: (node, ask) => (node.region === ask.region ? null : REASON.otherRegion),
};

/** The node must carry every requested label. */
export const labelChecker: FeasibilityChecker = {
  name: 'labels',
  check: (node, ask) => {
    const labels = ask.labels;
    const bits = ask.labelBits;
    if (bits !== undefined) {
      // An AND on the node itself instead of a Set lookup per label (a cache miss each).
      for (let i = 0; i < bits.length; i++) if ((node.labelBits & bits[i]!) === 0) return ask.missingLabelReasons[i]!;
      return null;
    }
    for (let i = 0; i < labels.length; i++) {
      if (!node.labels.has(labels[i]!)) return ask.missingLabelReasons[i]!;
    }
    return null;
  },
};

/**
 * A degraded node (live CPU, memory or disk at 90% or more) is infeasible rather than penalized:
 * it is already hurting its tenants, and a penalty would still pick it exactly when it is the
 * region's hot spot. The failure then says "degraded", which tells the operator what to fix.
 */
export const degradedChecker: FeasibilityChecker = {
  name: 'degraded',
  check: (node) => (node.degraded ? REASON.degraded : null),
};

// Resource checks compare reservations with capacity: live usage is noisy and a container may
// grow to its limit at any moment, so only reservations make "never overcommit" a guarantee.
export const cpuChecker: FeasibilityChecker = {
  name: 'cpu',
  check: (node, ask, pending) =>
    node.cpuAllocated + (pending + 1) * ask.resources.cpuMillicores <= node.cpuCapacity ? null : REASON.cpu,
};

export const memoryChecker: FeasibilityChecker = {
  name: 'memory',
  check: (node, ask, pending) =>
    node.memoryAllocated + (pending + 1) * ask.resources.memoryMb <= node.memoryCapacity ? null : REASON.memory,
};

export const diskChecker: FeasibilityChecker = {
  name: 'disk',
  check: (node, ask, pending) =>
    node.diskAllocated + (pending + 1) * ask.resources.diskMb <= node.diskCapacity ? null : REASON.disk,
};

/** Builds run in containers too, so they count here as well as in the build slots. */
export const containerChecker: FeasibilityChecker = {
  name: 'containers',
  check: (node, _ask, pending) => (node.containerCount + pending + 1 <= node.maxContainers ? null : REASON.containers),
};

/** Per-node build concurrency: builds are CPU- and disk-bursty, and a queue beats thrashing. */
export const buildSlotChecker: FeasibilityChecker = {
  name: 'build-slots',
  check: (node, _ask, pending) => (node.runningBuilds + pending + 1 <= node.maxBuilds ? null : REASON.buildSlots),
};

/** The app chain, in order: the first failing checker names the reason. */
export const APP_CHECKERS: readonly FeasibilityChecker[] = [
  statusChecker,
  regionChecker,
  labelChecker,
  degradedChecker,
  cpuChecker,
  memoryChecker,
  diskChecker,
  containerChecker,
];

export const BUILD_CHECKERS: readonly FeasibilityChecker[] = [...APP_CHECKERS, buildSlotChecker];

/**
 * Orders reasons of equal count in an explanation by the position of the checker that gives
 * them, so "1 draining, 1 insufficient memory" reads in chain order.
 */
export function reasonRank(reason: string): number {
  const rank = RANKS.get(reason);
  return rank ?? (reason.startsWith('missing label ') ? BUILD_CHECKERS.indexOf(labelChecker) : BUILD_CHECKERS.length);
}

const RANKS = new Map<string, number>([
  ...(['suspect', 'offline', 'draining', 'disabled'] as const).map((s) => [s, BUILD_CHECKERS.indexOf(statusChecker)] as const),
  [REASON.otherRegion, BUILD_CHECKERS.indexOf(regionChecker)],
  [REASON.degraded, BUILD_CHECKERS.indexOf(degradedChecker)],
  [REASON.cpu, BUILD_CHECKERS.indexOf(cpuChecker)],
  [REASON.memory, BUILD_CHECKERS.indexOf(memoryChecker)],
  [REASON.disk, BUILD_CHECKERS.indexOf(diskChecker)],
  [REASON.containers, BUILD_CHECKERS.indexOf(containerChecker)],
  [REASON.buildSlots, BUILD_CHECKERS.indexOf(buildSlotChecker)],
]);
