// Builders of plain runtime data for unit tests (no Docker involved).
import { createHash } from 'node:crypto';
import type { DesiredAllocation } from '@karvon/protocol';
import type { AllocationRecord } from './allocation-records';
import { DEFAULT_CRASH_POLICY } from './crash-policy';
import { specHash } from './labels';
import type { HealthResult, Observation, ObservedContainer, ObservedNetwork } from './observation';
import type { PlanInput, PlanSettings } from './plan';

export const T0 = Date.parse('2026-01-01T00:00:00Z');

export function allocation(id: string, over: Partial<DesiredAllocation> = {}): DesiredAllocation {
  return {
    id,
    appId: 'app_1',
    tenantId: 'usr_1',
    releaseId: 'rel_1',
    releaseNumber: 1,
    image: 'registry.local/app_1:1',
    env: { GREETING: 'hi' },
    port: 8080,
    limits: { cpuMillicores: 250, memoryMb: 128 },
    healthCheck: { type: 'http', path: '/healthz' },
    desiredStatus: 'running',
    ...over,
  };
}

/** A container (hex id, as Docker's) made for `a` (same spec hash), running and started a minute before T0 unless told otherwise. */
export function containerFor(a: DesiredAllocation, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: createHash('sha256').update(a.id).digest('hex'),
    allocationId: a.id,
    appId: a.appId,
    tenantId: a.tenantId,
    releaseNumber: a.releaseNumber,
    specHash: specHash(a),
    state: 'running',
    exitCode: 0,
    oomKilled: false,
    startedAt: T0 - 60_000,
    hostPort: 20001,
    containerPort: a.port,
    healthCheck: a.healthCheck,
    ...over,
  };
}

export const network = (tenantId = 'usr_1'): ObservedNetwork => ({ id: `net_${tenantId}`, name: `karvon-${tenantId}`, tenantId });

export function observation(containers: ObservedContainer[], healthy: string[] = [], networks: ObservedNetwork[] = [network()]): Observation {
  const health = new Map<string, HealthResult>(containers.filter((c) => c.state === 'running').map((c) => [c.id, healthy.includes(c.id) ? { ok: true } : { ok: false, error: 'connection refused' }]));
  return { containers, networks, health };
}

export const SETTINGS: PlanSettings = { healthDeadlineMs: 30_000, drainMs: 2_000, retryMs: 5_000, crash: DEFAULT_CRASH_POLICY };

export function record(over: Partial<AllocationRecord> = {}): AllocationRecord {
  return { restarts: 0, recentRestarts: [], ...over };
}

export function planInput(over: Partial<PlanInput> = {}): PlanInput {
  return {
    desired: [],
    observation: observation([]),
    records: new Map(),
    ports: new Map(),
    draining: new Map(),
    lastErrorAt: new Map(),
    settings: SETTINGS,
    now: T0,
    ...over,
  };
}
