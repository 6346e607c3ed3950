// Loads what routing/node-routing.ts needs for the regions of a batch of nodes — the apps with a
// release, their healthy upstreams as the agents report them, verified custom domains, issued
// certificates (keys opened) — and answers each node's routes and certificates.
//
// What is read is kept in memory, per region, under the installation's routing version
// (migrations/0010_routing_version.ts): triggers bump that version in the same transaction as any
// change routes or certificates depend on, whoever commits it, so two snapshots that see one
// version see the same routing. The desired-state builder reads the version in the same statement
// as the nodes; when it matches what is held here (and no held certificate has expired since), no
// further statement runs. Otherwise ONE statement reads the regions' routing together with the
// version it belongs to, in one snapshot, and replaces what is held.
import type { Certificate } from '@karvon/protocol';
import type { Db } from '../db/connect';
import type { SecretBox } from '../secrets/secret-box';
import { systemHostname } from '../apps/app-view';
import { openIssuedCertificate, type IssuedCertificateRow } from '../certificates/certificate-store';
import { routingForNodes, type NodeRouting, type RoutedApp } from './node-routing';

export interface RoutingContext {
  appsDomain: string;
  secrets: SecretBox;
}

/** The routing version as a value of a statement's select list: `<epoch>:<version>`, null without the row. */
export const ROUTING_VERSION_SQL = `(select epoch || ':' || version from routing_version where id)`;

interface RegionRouting {
  apps: RoutedApp[];
  certificates: Certificate[];
  /** ms since the epoch when the first of `certificates` expires (Infinity without any) */
  validUntil: number;
}

interface Held {
  version: string;
  regions: Map<string, RegionRouting>;
}

/** Per database and routing context: what was read, under the version it was read at. */
const heldByDb = new WeakMap<Db, WeakMap<RoutingContext, Held>>();

function heldFor(db: Db, ctx: RoutingContext): { get(): Held | undefined; set(h: Held): void } {
  let byCtx = heldByDb.get(db);
  if (!byCtx) heldByDb.set(db, (byCtx = new WeakMap()));
  const m = byCtx;
  return { get: () => m.get(ctx), set: (h) => m.set(ctx, h) };
}

/**
 * Each node's routes and certificates. `version` is the routing version read in the same statement
 * (snapshot) as the nodes; when what is held here was read at that version, it is what that snapshot
 * would read. Without it, the routing is read afresh.
 *
 * `heldUnder`: the pool whose memory `db` may use when `db` is a transaction on it (the planner's,
 * which changes nothing routing depends on). Such a reader uses what is held at the version it
 * reads but never stores what it read: a transaction sees its own uncommitted writes, while the
 * version they would bump is only bumped at its commit.
 */
export async function loadNodeRouting(
  db: Db,
  ctx: RoutingContext,
  nodes: ReadonlyArray<{ nodeId: string; regionId: string }>,
  version?: string | null,
  heldUnder: Db = db,
): Promise<Map<string, NodeRouting>> {
  const out = new Map<string, NodeRouting>();
  const regions = [...new Set(nodes.map((n) => n.regionId))].sort();
  if (regions.length === 0) return out;
  const held = heldFor(heldUnder, ctx);
  const store = heldUnder === db;
  const now = Date.now();
  const current = held.get();
  let regionRouting: Map<string, RegionRouting>;
  if (version && current?.version === version && regions.every((r) => (current.regions.get(r)?.validUntil ?? 0) > now)) {
    regionRouting = current.regions;
  } else {
    const read = await readRegions(db, ctx, regions, new Date(now));
    regionRouting = read.regions;
    if (read.version && store) {
      const keep = held.get();
      // Regions held at the same version stay; a newer version replaces everything held.
      if (keep?.version === read.version) for (const [r, v] of read.regions) keep.regions.set(r, v);
      else held.set({ version: read.version, regions: new Map(read.regions) });
    }
  }
  for (const region of regions) {
    const r = regionRouting.get(region) ?? { apps: [], certificates: [], validUntil: Infinity };
    const routing = routingForNodes({ nodeIds: nodes.filter((n) => n.regionId === region).map((n) => n.nodeId), apps: r.apps, certificates: r.certificates });
    for (const [nodeId, nr] of routing) out.set(nodeId, nr);
  }
  return out;
}

interface RoutingRow {
  version: string | null;
  apps: Array<{ app_id: string; name: string; region_id: string; upstreams: Array<{ node_id: string; upstream: string }>; custom: string[] }>;
  certificates: IssuedCertificateRow[];
}

/**
 * One statement, one snapshot: the routing version and the regions' apps (with their healthy
 * upstreams and verified custom domains) and the issued certificates covering their names. The
 * system hostname is built here as apps/app-view.ts systemHostname builds it.
 */
async function readRegions(db: Db, ctx: RoutingContext, regions: readonly string[], now: Date): Promise<{ version: string | null; regions: Map<string, RegionRouting> }> {
  const res = await db.raw<{ rows: RoutingRow[] }>(
    `with routed as (
       select a.id, a.name, a.region_id from apps a
       where a.region_id = any(?::text[]) and a.deleted_at is null and a.status <> 'deleting' and a.current_release_id is not null),
     custom as (
       select d.app_id, d.hostname from domains d join routed r on r.id = d.app_id
       where d.deleted_at is null and d.status = 'verified')
     select ${ROUTING_VERSION_SQL} as version,
       coalesce((select json_agg(json_build_object(
           'app_id', r.id, 'name', r.name, 'region_id', r.region_id,
           'upstreams', coalesce((select json_agg(json_build_object('node_id', al.node_id, 'upstream', al.upstream) order by al.id)
              from allocations al where al.app_id = r.id and al.stopped_at is null and al.desired_status = 'running'
                and al.actual_status = 'healthy' and al.upstream is not null), '[]'::json),
           'custom', coalesce((select json_agg(c.hostname order by c.hostname) from custom c where c.app_id = r.id), '[]'::json))
         order by r.id) from routed r), '[]'::json) as apps,
       coalesce((select json_agg(json_build_object('id', c.id, 'hostname', c.hostname, 'certificate_pem', c.certificate_pem,
           'private_key_ciphertext', c.private_key_ciphertext, 'not_after', c.not_after) order by c.hostname)
         from certificates c
         where c.hostname in (select r.name || '.' || r.region_id || '.' || ?::text from routed r union select hostname from custom)
           and c.certificate_pem is not null and c.private_key_ciphertext is not null and c.not_after > ?::timestamptz), '[]'::json) as certificates`,
    [[...regions], ctx.appsDomain, now],
  );
  const row = res.rows[0]!;
  const certificates = row.certificates.map((c) => openIssuedCertificate(ctx.secrets, c));
  const out = new Map<string, RegionRouting>();
  for (const region of regions) out.set(region, { apps: [], certificates: [], validUntil: Infinity });
  for (const a of row.apps) {
    out.get(a.region_id)?.apps.push({
      appId: a.app_id,
      systemHostname: systemHostname(a.name, a.region_id, ctx.appsDomain),
      customHostnames: a.custom,
      upstreams: a.upstreams.map((u) => ({ nodeId: u.node_id, address: u.upstream })),
    });
  }
  for (const r of out.values()) {
    const names = new Set(r.apps.flatMap((a) => [a.systemHostname, ...a.customHostnames]));
    r.certificates = certificates.filter((c) => c.hostnames.some((h) => names.has(h)));
    r.validUntil = Math.min(Infinity, ...r.certificates.map((c) => Date.parse(c.notAfter)));
  }
  return { version: row.version, regions: out };
}
