// What each heartbeat says about the node's allocations, derived (purely) from the same inputs the
// planner sees. The upstream is reported only while the container is healthy and not draining, so
// nothing routes to an app before it listens or after it starts to go away.
import { MAX_MESSAGE_CHARS, type AllocationStatus, type DesiredAllocation } from '@karvon/protocol';
import type { AllocationRecord } from './allocation-records';
import type { ContainerStats } from './container-stats';
import { appsAwaitingHealth, groupBy } from './plan';
import { isHealthy, isLive, type Observation, type ObservedContainer } from './observation';
import { PORT_TAKEN } from './executor';

export interface StatusInput {
  /** undefined until a desired state is known: containers are then reported as adopted */
  desired: readonly DesiredAllocation[] | undefined;
  observation: Observation;
  records: ReadonlyMap<string, AllocationRecord>;
  draining: ReadonlyMap<string, number>;
  lastError: ReadonlyMap<string, { at: number; message: string }>;
  stats: ReadonlyMap<string, ContainerStats>;
  advertiseAddr: string;
}

export function describeAllocations(input: StatusInput): AllocationStatus[] {
  const { observation, records } = input;
  const containers = groupBy(observation.containers, (c) => c.allocationId);
  const desired = input.desired ?? [];
  const out: AllocationStatus[] = [];
  for (const d of desired) {
    const c = (containers.get(d.id) ?? []).find(isLive) ?? containers.get(d.id)?.[0];
    out.push(desiredStatus(d, c, input));
  }
  const desiredIds = new Set(desired.map((d) => d.id));
  const awaited = appsAwaitingHealth(desired, containers, observation, records);
  for (const [allocationId, list] of containers) {
    if (desiredIds.has(allocationId)) continue;
    const c = list.find(isLive) ?? list[0];
    if (!c) continue;
    const why =
      input.desired === undefined ? 'adopted; waiting for a desired state'
      : isLive(c) && awaited.has(c.appId) && !input.draining.has(c.id) ? 'no longer desired; kept serving until its replacement is healthy'
      : 'no longer desired; being removed';
    out.push(base(c, input, stateOf(c, input), why));
  }
  return out;
}

function desiredStatus(d: DesiredAllocation, c: ObservedContainer | undefined, input: StatusInput): AllocationStatus {
  const rec = input.records.get(d.id);
  const error = input.lastError.get(d.id)?.message;
  if (rec?.failure) {
    // A crash loop is its own state: the control plane and the customer see it without parsing text.
    const state = rec.failure.kind === 'crash-loop' ? 'crash-loop' : 'failed';
    return { ...(c ? base(c, input, state) : { allocationId: d.id, state, restarts: rec.restarts }), message: clip(rec.failure.message) };
  }
  if (!c) {
    // A host port taken outside Karvon is retried on another port: still starting, not failed.
    const state = d.desiredStatus === 'stopped' ? 'stopped' : error && !PORT_TAKEN.test(error) ? 'failed' : 'starting';
    return { allocationId: d.id, state, restarts: rec?.restarts ?? 0, ...(error ? { message: clip(error) } : {}) };
  }
  if (d.desiredStatus === 'stopped') return base(c, input, isLive(c) ? 'running' : 'stopped', isLive(c) ? 'stopping' : undefined);
  if (c.state === 'exited') {
    return base(c, input, 'exited', `exit code ${c.exitCode}${c.oomKilled ? ' (out of memory)' : ''}; restarting with backoff`);
  }
  return base(c, input, stateOf(c, input), error);
}

function stateOf(c: ObservedContainer, input: StatusInput): AllocationStatus['state'] {
  if (c.state === 'created') return 'starting';
  if (!isLive(c)) return c.state === 'dead' ? 'failed' : 'exited';
  if (isHealthy(input.observation, c)) return 'healthy';
  const probed = input.observation.health.get(c.id);
  if (!probed) return 'running';
  return input.records.get(c.allocationId)?.healthyAt === undefined ? 'starting' : 'unhealthy';
}

function base(c: ObservedContainer, input: StatusInput, state: AllocationStatus['state'], message?: string): AllocationStatus {
  const rec = input.records.get(c.allocationId);
  const stats = input.stats.get(c.id);
  const draining = input.draining.has(c.id);
  const routable = state === 'healthy' && !draining && c.hostPort !== undefined;
  const text = draining ? 'draining' : message;
  return {
    allocationId: c.allocationId,
    state,
    containerId: c.id,
    ...(routable ? { upstream: `${hostForUrl(input.advertiseAddr)}:${c.hostPort}` } : {}),
    restarts: rec?.restarts ?? 0,
    ...(stats?.cpuPercent !== undefined ? { cpuPercent: stats.cpuPercent } : {}),
    ...(stats ? { memoryMb: stats.memoryMb } : {}),
    ...(stats?.netRxBytes !== undefined ? { netRxBytes: stats.netRxBytes } : {}),
    ...(stats?.netTxBytes !== undefined ? { netTxBytes: stats.netTxBytes } : {}),
    ...(c.startedAt !== undefined && isLive(c) ? { startedAt: new Date(c.startedAt).toISOString() } : {}),
    ...(text ? { message: clip(text) } : {}),
  };
}

export function hostForUrl(addr: string): string {
  return addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr;
}

/** Keeps the end of a long message: the last log lines matter more than the first. */
export function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  if (text.length <= max) return text;
  const head = text.slice(0, text.indexOf('\n') + 1 || 200).slice(0, 200);
  const marker = '…\n';
  return head + marker + text.slice(text.length - (max - head.length - marker.length));
}
