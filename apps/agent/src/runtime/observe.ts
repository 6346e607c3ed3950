// Reads this node's containers and networks from the engine, by label. Everything else on the
// engine is never listed, let alone touched.
import type Docker from 'dockerode';
import { healthCheckFromLabels, isOwned, LABELS, ownedFilter } from './labels';
import type { ContainerState, ObservedContainer, ObservedNetwork } from './observation';

const INSPECT_CONCURRENCY = 8;

export async function observeContainers(docker: Docker, nodeId: string): Promise<ObservedContainer[]> {
  const listed = await docker.listContainers({ all: true, filters: { label: ownedFilter(nodeId) } });
  const owned = listed.filter((c) => isOwned(c.Labels, nodeId) && c.Labels[LABELS.allocation]);
  const out: ObservedContainer[] = [];
  for (let i = 0; i < owned.length; i += INSPECT_CONCURRENCY) {
    const batch = await Promise.all(owned.slice(i, i + INSPECT_CONCURRENCY).map((c) => inspect(docker, c.Id)));
    for (const c of batch) if (c) out.push(c);
  }
  return out;
}

async function inspect(docker: Docker, id: string): Promise<ObservedContainer | undefined> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(id).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined; // removed since the list
    throw e;
  }
  return fromInspect(info);
}

/** Pure: the fields the planner needs from `docker inspect`. */
export function fromInspect(info: Docker.ContainerInspectInfo): ObservedContainer {
  const labels = info.Config.Labels ?? {};
  const containerPort = Number(labels[LABELS.port]);
  const binding = (info.HostConfig.PortBindings as Record<string, Array<{ HostPort?: string }> | undefined> | undefined)?.[`${containerPort}/tcp`]?.[0];
  const hostPort = Number(binding?.HostPort);
  const ip = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  const healthCheck = healthCheckFromLabels(labels);
  return {
    id: info.Id,
    allocationId: labels[LABELS.allocation] ?? '',
    appId: labels[LABELS.app] ?? '',
    tenantId: labels[LABELS.tenant] ?? '',
    releaseNumber: Number(labels[LABELS.releaseNumber] ?? 0),
    specHash: labels[LABELS.specHash] ?? '',
    state: info.State.Status as ContainerState,
    exitCode: info.State.ExitCode,
    oomKilled: info.State.OOMKilled,
    ...optionalTime('startedAt', info.State.StartedAt),
    ...optionalTime('finishedAt', info.State.FinishedAt),
    ...(Number.isInteger(hostPort) && hostPort > 0 ? { hostPort } : {}),
    ...(Number.isInteger(containerPort) && containerPort > 0 ? { containerPort } : {}),
    ...(ip ? { ip } : {}),
    ...(healthCheck ? { healthCheck } : {}),
    ...(typeof info.HostConfig.NanoCpus === 'number' ? { nanoCpus: info.HostConfig.NanoCpus } : {}),
  };
}

/** Docker writes 0001-01-01T00:00:00Z for "never". */
function optionalTime<K extends string>(key: K, iso: string | undefined): Partial<Record<K, number>> {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) && ms > 0 ? ({ [key]: ms } as Record<K, number>) : {};
}

export async function observeNetworks(docker: Docker, nodeId: string): Promise<ObservedNetwork[]> {
  const listed = await docker.listNetworks({ filters: { label: ownedFilter(nodeId) } });
  return listed
    .filter((n) => isOwned(n.Labels, nodeId) && n.Labels?.[LABELS.tenant])
    .map((n) => ({ id: n.Id, name: n.Name, tenantId: n.Labels?.[LABELS.tenant] ?? '' }));
}
