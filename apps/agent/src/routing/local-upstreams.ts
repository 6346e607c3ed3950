// Pure: the node's own replicas join its routes the moment this agent finds them healthy, without
// waiting for the control plane to hear of it and send a new desired state back (ARCHITECTURE.md,
// rollout: the agent checks health, then switches the route). Only additions, and only what the
// control plane would add itself once the report arrives: a replica of a routed app that the
// desired state asks this node to run, with the upstream the heartbeat reports for it (healthy,
// not draining). Removal stays the control plane's (and Traefik's local health check's), so an
// agent that has not yet observed its containers never drops a route.
import { MAX_UPSTREAMS_PER_ROUTE, type AllocationStatus, type DesiredAllocation, type Route } from '@karvon/protocol';

/** allocation id → its upstream, for the allocations the runtime reports routable. */
export function routableUpstreams(statuses: readonly Pick<AllocationStatus, 'allocationId' | 'upstream'>[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of statuses) if (s.upstream !== undefined) out.set(s.allocationId, s.upstream);
  return out;
}

/** `routes` with each desired, running, routable local replica of the route's app added (once). */
export function withLocalUpstreams(
  routes: readonly Route[],
  allocations: readonly Pick<DesiredAllocation, 'id' | 'appId' | 'desiredStatus'>[],
  routable: ReadonlyMap<string, string>,
): Route[] {
  if (routable.size === 0) return [...routes];
  const byApp = new Map<string, string[]>();
  for (const a of allocations) {
    const address = routable.get(a.id);
    if (a.desiredStatus !== 'running' || address === undefined) continue;
    byApp.set(a.appId, [...(byApp.get(a.appId) ?? []), address]);
  }
  return routes.map((r) => {
    const local = byApp.get(r.appId);
    // A malformed route is left as it is, for the renderer to refuse.
    if (!local || !Array.isArray(r.upstreams)) return r;
    const known = new Set(r.upstreams.map((u) => u.address));
    const added = [...new Set(local)].sort().filter((address) => !known.has(address));
    if (added.length === 0) return r;
    return { ...r, upstreams: [...r.upstreams, ...added.map((address) => ({ address, local: true }))].slice(0, MAX_UPSTREAMS_PER_ROUTE) };
  });
}
