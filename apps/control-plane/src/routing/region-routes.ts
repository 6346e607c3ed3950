// Loads what routing/node-routing.ts needs for the regions of a batch of nodes — the apps with a
// release, their healthy upstreams as the agents report them, verified custom domains, issued
// certificates (keys opened) — and answers each node's routes and certificates. Three statements
// per batch, whatever the number of nodes in it.
import type { Db } from '../db/connect';
import type { SecretBox } from '../secrets/secret-box';
import { systemHostname } from '../apps/app-view';
import { loadIssuedCertificates } from '../certificates/certificate-store';
import { verifiedHostnamesByApp } from '../domains/domains';
import { routingForNodes, type NodeRouting, type RoutedApp } from './node-routing';

export interface RoutingContext {
  appsDomain: string;
  secrets: SecretBox;
}

export async function loadNodeRouting(db: Db, ctx: RoutingContext, nodes: ReadonlyArray<{ nodeId: string; regionId: string }>): Promise<Map<string, NodeRouting>> {
  const out = new Map<string, NodeRouting>();
  const regions = [...new Set(nodes.map((n) => n.regionId))];
  if (regions.length === 0) return out;
  const rows = await db.raw<{ rows: Array<{ app_id: string; name: string; region_id: string; node_id: string | null; upstream: string | null }> }>(
    `select a.id as app_id, a.name, a.region_id, al.node_id, al.upstream
     from apps a
     left join allocations al on al.app_id = a.id and al.stopped_at is null and al.desired_status = 'running'
       and al.actual_status = 'healthy' and al.upstream is not null
     where a.region_id = any(?::text[]) and a.deleted_at is null and a.status <> 'deleting' and a.current_release_id is not null
     order by a.id, al.id`,
    [regions],
  );
  const custom = await verifiedHostnamesByApp(db, regions);
  type Building = RoutedApp & { upstreams: Array<RoutedApp['upstreams'][number]> };
  const byRegion = new Map<string, Map<string, Building>>();
  for (const r of rows.rows) {
    const apps = byRegion.get(r.region_id) ?? new Map<string, Building>();
    byRegion.set(r.region_id, apps);
    let app = apps.get(r.app_id);
    if (!app) {
      app = { appId: r.app_id, systemHostname: systemHostname(r.name, r.region_id, ctx.appsDomain), customHostnames: custom.get(r.app_id) ?? [], upstreams: [] };
      apps.set(r.app_id, app);
    }
    if (r.node_id && r.upstream) app.upstreams.push({ nodeId: r.node_id, address: r.upstream });
  }
  const allApps = [...byRegion.values()].flatMap((m) => [...m.values()]);
  const certificates = await loadIssuedCertificates(db, ctx.secrets, allApps.flatMap((a) => [a.systemHostname, ...a.customHostnames]));
  for (const region of regions) {
    const apps = [...(byRegion.get(region)?.values() ?? [])];
    const names = new Set(apps.flatMap((a) => [a.systemHostname, ...a.customHostnames]));
    const routing = routingForNodes({
      nodeIds: nodes.filter((n) => n.regionId === region).map((n) => n.nodeId),
      apps,
      certificates: certificates.filter((c) => c.hostnames.some((h) => names.has(h))),
    });
    for (const [nodeId, r] of routing) out.set(nodeId, r);
  }
  return out;
}
