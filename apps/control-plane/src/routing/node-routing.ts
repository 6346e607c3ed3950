// What each node of a region serves: every hostname of every app in the region (system hostnames
// and verified custom domains), because DNS may send a request to any node. Upstreams are the
// app's healthy replicas, those on the node itself first (marked `local`), the rest through their
// advertise addresses. Certificates are shipped to every node that routes a name they cover.
// Pure: the desired-state builder loads the inputs and puts the output into each node's payload.
import { dnsNameSchema, hostPortSchema, type Certificate, type Route } from '@karvon/protocol';

export interface RoutedApp {
  appId: string;
  /** `<app>.<region>.<apps domain>` */
  systemHostname: string;
  /** VERIFIED custom domains only: a pending domain never gets a route */
  customHostnames: readonly string[];
  /** healthy replicas only */
  upstreams: ReadonlyArray<{
    nodeId: string;
    /** how other nodes reach it: `<advertise address>:<host port>` */
    address: string;
    /** how its own node reaches it, when that differs (e.g. `127.0.0.1:<host port>`) */
    localAddress?: string;
  }>;
}

export interface RegionRoutingInput {
  /** the region's nodes to compute for */
  nodeIds: readonly string[];
  apps: readonly RoutedApp[];
  /** issued, unexpired certificates, keys opened (certificates/certificate-store.ts loadIssuedCertificates) */
  certificates: readonly Certificate[];
}

export interface NodeRouting {
  routes: Route[];
  certificates: Certificate[];
}

/** Does a certificate name cover this hostname (exactly, or by a one-label wildcard)? */
export function certificateCovers(certHostnames: readonly string[], hostname: string): boolean {
  return certHostnames.some((c) => c === hostname || (c.startsWith('*.') && hostname.endsWith(c.slice(1)) && !hostname.slice(0, -(c.length - 1)).includes('.')));
}

export function routingForNodes(input: RegionRoutingInput): Map<string, NodeRouting> {
  // One hostname, one app: the database guarantees it; if it ever did not, the first app by id
  // keeps the name rather than two routers fighting over it.
  const apps = [...input.apps].sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
  const claimed = new Map<string, RoutedApp>();
  for (const app of apps) {
    for (const h of [app.systemHostname, ...app.customHostnames]) {
      // Defence in depth: whatever reaches the renderer is a plain lower-case DNS name.
      if (!dnsNameSchema.safeParse(h).success || claimed.has(h)) continue;
      claimed.set(h, app);
    }
  }
  const hostnames = [...claimed.keys()].sort();
  const shipped = input.certificates
    .filter((c) => hostnames.some((h) => certificateCovers(c.hostnames, h)))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Per hostname once: TLS, and which upstream addresses are well formed.
  const valid = (address: string) => hostPortSchema.safeParse(address).success;
  const perHost = hostnames.map((hostname) => {
    const app = claimed.get(hostname)!;
    return {
      hostname,
      app,
      tls: shipped.some((c) => certificateCovers(c.hostnames, hostname)),
      remote: app.upstreams.map((u) => ({ nodeId: u.nodeId, address: u.address, ok: valid(u.address) })),
      local: app.upstreams.map((u) => ({ nodeId: u.nodeId, address: u.localAddress ?? u.address, ok: valid(u.localAddress ?? u.address) })),
    };
  });
  const routesFor = (nodeId: string | undefined): Route[] =>
    perHost.map(({ hostname, app, tls, remote, local }) => {
      const upstreams = [
        ...local.filter((u) => u.nodeId === nodeId && u.ok).map((u) => ({ address: u.address, local: true })),
        ...remote.filter((u) => u.nodeId !== nodeId && u.ok).map((u) => ({ address: u.address, local: false })),
      ].slice(0, 100);
      return { hostname, appId: app.appId, tls, upstreams };
    });
  // A node with no replica of its own gets what every such node gets: built once, fresh per node.
  const hosting = new Set(apps.flatMap((a) => a.upstreams.map((u) => u.nodeId)));
  let shared: Route[] | undefined;
  const out = new Map<string, NodeRouting>();
  for (const nodeId of input.nodeIds) {
    const routes = hosting.has(nodeId) ? routesFor(nodeId) : (shared ??= routesFor(undefined));
    out.set(nodeId, { routes: routes.map((r) => ({ ...r, upstreams: [...r.upstreams] })), certificates: [...shipped] });
  }
  return out;
}
