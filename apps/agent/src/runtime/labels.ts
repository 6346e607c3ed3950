// What marks a container or network as Karvon's, and as this node's. The agent lists, changes and
// removes only objects that carry both `karvon.managed=true` and `karvon.node=<its node id>`:
// anything else on the engine (a container started by hand, another agent's tenants) is invisible
// to it. Several agents may share one engine; each sees only its own node id.
import { createHash } from 'node:crypto';
import { healthCheckSchema, type DesiredAllocation, type HealthCheck } from '@karvon/protocol';

export const LABELS = {
  managed: 'karvon.managed',
  node: 'karvon.node',
  allocation: 'karvon.allocation',
  app: 'karvon.app',
  tenant: 'karvon.tenant',
  release: 'karvon.release',
  releaseNumber: 'karvon.release-number',
  specHash: 'karvon.spec-hash',
  port: 'karvon.port',
  /** on an image built on this node (the build's id is in its tag) */
  built: 'karvon.built',
  /** kept on the container so a replaced (no longer desired) one can still be probed */
  healthCheck: 'karvon.health-check',
} as const;

/** Docker `label` filters selecting exactly this node's objects. */
export function ownedFilter(nodeId: string): string[] {
  return [`${LABELS.managed}=true`, `${LABELS.node}=${nodeId}`];
}

export function containerLabels(a: DesiredAllocation, nodeId: string): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.node]: nodeId,
    [LABELS.allocation]: a.id,
    [LABELS.app]: a.appId,
    [LABELS.tenant]: a.tenantId,
    [LABELS.release]: a.releaseId,
    [LABELS.releaseNumber]: String(a.releaseNumber),
    [LABELS.specHash]: specHash(a),
    [LABELS.port]: String(a.port),
    [LABELS.healthCheck]: JSON.stringify(a.healthCheck),
  };
}

export function networkLabels(tenantId: string, nodeId: string): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.node]: nodeId, [LABELS.tenant]: tenantId };
}

/** True only for objects this node manages; the second line of defence after the list filter. */
export function isOwned(labels: Record<string, string> | undefined, nodeId: string): boolean {
  return labels?.[LABELS.managed] === 'true' && labels[LABELS.node] === nodeId;
}

/**
 * What a container runs, as a hash: a container whose hash differs from its allocation's was made
 * for other settings and is replaced. Health check and desired status are left out: the first is
 * the agent's business (no restart needed), the second is acted on by stopping and starting.
 */
export function specHash(a: DesiredAllocation): string {
  const env = Object.fromEntries(Object.entries(a.env).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  const material = { image: a.image, env, command: a.command ?? null, port: a.port, limits: a.limits };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 16);
}

/** The health check a container was created with, or undefined if its label is unreadable. */
export function healthCheckFromLabels(labels: Record<string, string>): HealthCheck | undefined {
  try {
    const parsed = healthCheckSchema.safeParse(JSON.parse(labels[LABELS.healthCheck] ?? 'null'));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const shortHash = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');

/** Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]; ids may also hold ':'. */
const dockerSafe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** One container per allocation: a fixed name makes a second create for it fail instead of duplicating. */
export function containerName(allocationId: string): string {
  return `karvon-${dockerSafe(allocationId)}`;
}

/** Per tenant and node (several agents may share an engine, and network names are engine-wide). */
export function networkName(nodeId: string, tenantId: string): string {
  return `karvon-${dockerSafe(tenantId).slice(0, 40)}-${shortHash(nodeId, tenantId).slice(0, 10)}`;
}

/**
 * The Linux bridge interface (15 characters at most). A fixed `kv-` prefix lets one host firewall
 * rule (`-i kv-+`) cover every tenant network, whatever its name.
 */
export function bridgeName(nodeId: string, tenantId: string): string {
  return `kv-${shortHash(nodeId, tenantId).slice(0, 12)}`;
}
