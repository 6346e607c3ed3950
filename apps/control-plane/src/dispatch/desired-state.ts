import type { DesiredAllocation, DesiredStatePayload } from '@karvon/protocol';
import type { Db } from '../db/connect';
import type { AllocationSpec } from '../planner/allocation-spec';
import type { OpenEnvValue } from '../deploys/release-spec';
import { loadNodeRouting, ROUTING_VERSION_SQL, type RoutingContext } from '../routing/region-routes';

/** What a desired state needs beyond the database: opening sealed env, and routing (both optional in tests). */
export interface DesiredStateContext {
  openEnv?: OpenEnvValue;
  routing?: RoutingContext;
}

interface AllocationRow {
  id: string;
  app_id: string;
  cpu_millicores: number;
  memory_mb: number;
  desired_status: 'running' | 'stopped';
  spec: AllocationSpec;
}

/** A node's current session here, whose desired state is wanted. */
export interface StateFor {
  nodeId: string;
  sessionGeneration: number;
}

/**
 * The nodes' complete desired states at their current generations, built from the database (never
 * a patch): every live allocation with what it runs. One statement for all the nodes, so each
 * generation and the allocations it describes come from one snapshot. A node missing from the
 * result was revoked (or never existed). Routes and certificates are region-wide (routing/): the
 * same statement reads the routing version, and no other statement runs while it is unchanged.
 * A transaction on a pool passes that pool as `heldUnder` to use its routing memory
 * (routing/region-routes.ts).
 */
export async function loadDesiredStates(db: Db, nodes: readonly StateFor[], ctx: DesiredStateContext = {}, heldUnder: Db = db): Promise<Map<string, DesiredStatePayload>> {
  const out = new Map<string, DesiredStatePayload>();
  if (nodes.length === 0) return out;
  const res = await db.raw<{ rows: Array<{ id: string; region_id: string; desired_generation: string; routing_version: string | null; allocations: AllocationRow[] }> }>(
    `select n.id, n.region_id, n.desired_generation, ${ctx.routing ? ROUTING_VERSION_SQL : 'null'} as routing_version,
       coalesce((select json_agg(a order by a.id) from (
         select id, app_id, cpu_millicores, memory_mb, desired_status, spec
         from allocations where node_id = n.id and stopped_at is null) a), '[]'::json) as allocations
     from nodes n where n.id = any(?::text[]) and n.revoked_at is null`,
    [nodes.map((n) => n.nodeId)],
  );
  const session = new Map(nodes.map((n) => [n.nodeId, n.sessionGeneration]));
  // The routing is that of this statement's snapshot (held in memory under the routing version read
  // here, routing/region-routes.ts) or newer (read after it): a route change bumps the generation
  // with or after its commit, so a state built here is never older in routes than its generation.
  const routing = ctx.routing
    ? await loadNodeRouting(db, ctx.routing, res.rows.map((r) => ({ nodeId: r.id, regionId: r.region_id })), res.rows[0]?.routing_version, heldUnder)
    : undefined;
  for (const node of res.rows) {
    out.set(node.id, {
      generation: Number(node.desired_generation),
      sessionGeneration: session.get(node.id)!,
      allocations: node.allocations.map((a) => toDesiredAllocation(a, ctx.openEnv)),
      routes: routing?.get(node.id)?.routes ?? [],
      certificates: routing?.get(node.id)?.certificates ?? [],
    });
  }
  return out;
}

/** One node's desired state; undefined when the node was revoked. */
export async function loadDesiredState(db: Db, nodeId: string, sessionGeneration: number, ctx: DesiredStateContext = {}): Promise<DesiredStatePayload | undefined> {
  return (await loadDesiredStates(db, [{ nodeId, sessionGeneration }], ctx)).get(nodeId);
}

/**
 * A sealed value that cannot be opened (its key rotated away) fails the whole build: the node then
 * keeps running what it has, rather than getting a state without that allocation and stopping it.
 */
function openedEnv(r: AllocationRow, openEnv: OpenEnvValue | undefined): Record<string, string> {
  const sealed = r.spec.sealedEnv;
  if (!sealed || Object.keys(sealed).length === 0) return r.spec.env;
  if (!openEnv) throw new Error(`allocation ${r.id} has sealed env but this dispatcher cannot open secrets`);
  const env = { ...r.spec.env };
  for (const [key, value] of Object.entries(sealed)) env[key] = openEnv(r.app_id, key, value);
  return env;
}

function toDesiredAllocation(r: AllocationRow, openEnv: OpenEnvValue | undefined): DesiredAllocation {
  return {
    id: r.id,
    appId: r.app_id,
    tenantId: r.spec.tenantId,
    releaseId: r.spec.releaseId,
    releaseNumber: r.spec.releaseNumber,
    image: r.spec.image,
    env: openedEnv(r, openEnv),
    ...(r.spec.command ? { command: r.spec.command } : {}),
    port: r.spec.port,
    limits: { cpuMillicores: r.cpu_millicores, memoryMb: r.memory_mb, ...(r.spec.pidsLimit ? { pids: r.spec.pidsLimit } : {}) },
    healthCheck: r.spec.healthCheck,
    desiredStatus: r.desired_status,
  };
}
