// The reconciler: (desired allocations, what the engine shows, what the agent remembers, now) →
// actions. Pure; the executor is the only thing that acts. Run on every desired-state change and on
// a timer, so a lost message or a failed action costs only latency.
import type { DesiredAllocation } from '@karvon/protocol';
import type { Action } from './actions';
import type { AllocationRecord } from './allocation-records';
import { crashDecision, type CrashPolicy } from './crash-policy';
import { planNanoCpus } from './container-spec';
import { specHash } from './labels';
import { isHealthy, isLive, type Observation, type ObservedContainer } from './observation';

export interface PlanSettings {
  /** a container never healthy this long after its start fails (its rollout fails) */
  healthDeadlineMs: number;
  /** time between dropping a container's upstream and stopping it */
  drainMs: number;
  /** pause before retrying an action that failed (pull missing, port taken, …) */
  retryMs: number;
  crash: CrashPolicy;
}

export interface PlanInput {
  desired: readonly DesiredAllocation[];
  observation: Observation;
  records: ReadonlyMap<string, AllocationRecord>;
  ports: ReadonlyMap<string, number>;
  /** container id → when its drain began */
  draining: ReadonlyMap<string, number>;
  /** allocation id → when an action for it last failed */
  lastErrorAt: ReadonlyMap<string, number>;
  settings: PlanSettings;
  now: number;
}

export function plan(input: PlanInput): Action[] {
  const { desired, observation, records, settings, now } = input;
  const actions: Action[] = [];
  const containers = groupBy(observation.containers, (c) => c.allocationId);
  const desiredIds = new Set(desired.map((d) => d.id));
  const networks = new Set(observation.networks.map((n) => n.tenantId));
  const retryDue = (id: string) => now - (input.lastErrorAt.get(id) ?? -Infinity) >= settings.retryMs;

  const drainThen = (c: ObservedContainer, then: Action) => {
    const since = input.draining.get(c.id);
    if (since === undefined) actions.push({ kind: 'drain', allocationId: c.allocationId, containerId: c.id });
    else if (now - since >= settings.drainMs) actions.push(then);
  };

  for (const d of desired) {
    const [c, ...extra] = primaryFirst(containers.get(d.id) ?? [], specHash(d));
    for (const x of extra) actions.push({ kind: 'remove-container', allocationId: d.id, containerId: x.id, reason: 'duplicate' });
    const rec = records.get(d.id);
    const hasHistory = rec !== undefined && (rec.failure !== undefined || rec.recentRestarts.length > 0);
    if (d.desiredStatus === 'stopped' && hasHistory) actions.push({ kind: 'reset', allocationId: d.id });

    if (!c) {
      if (d.desiredStatus === 'running' && !rec?.failure && retryDue(d.id)) {
        if (!networks.has(d.tenantId)) {
          networks.add(d.tenantId);
          actions.push({ kind: 'create-network', tenantId: d.tenantId });
        }
        actions.push({ kind: 'create-container', allocation: d });
      }
      continue;
    }
    if (c.hostPort !== undefined && input.ports.get(d.id) !== c.hostPort) actions.push({ kind: 'adopt-port', allocationId: d.id, port: c.hostPort });
    if (c.specHash !== specHash(d)) {
      actions.push({ kind: 'remove-container', allocationId: d.id, containerId: c.id, reason: 'spec-changed' });
      continue;
    }
    if (c.state === 'dead') {
      actions.push({ kind: 'remove-container', allocationId: d.id, containerId: c.id, reason: 'dead' });
      continue;
    }
    if (d.desiredStatus === 'stopped') {
      if (isLive(c)) drainThen(c, { kind: 'stop-container', allocationId: d.id, containerId: c.id });
      continue;
    }
    // Desired running. A failure is terminal until the desired state changes (a new allocation,
    // or a stop then a start): restarting a crash loop or a release that never gets healthy helps
    // nobody and hides the failure.
    if (rec?.failure) continue;
    if (c.state === 'created') {
      if (retryDue(d.id)) actions.push({ kind: 'start-container', allocationId: d.id, containerId: c.id, restart: false });
    } else if (c.state === 'exited') {
      if (rec?.stoppedByAgent) {
        if (retryDue(d.id)) actions.push({ kind: 'start-container', allocationId: d.id, containerId: c.id, restart: false });
      } else {
        const decision = crashDecision(rec?.recentRestarts ?? [], c.finishedAt, now, settings.crash);
        if (decision.kind === 'restart') actions.push({ kind: 'start-container', allocationId: d.id, containerId: c.id, restart: true });
        if (decision.kind === 'crash-loop') {
          const window = Math.round(settings.crash.windowMs / 60_000);
          actions.push({
            kind: 'fail',
            allocationId: d.id,
            containerId: c.id,
            failure: 'crash-loop',
            detail: `exit code ${c.exitCode}, oom ${c.oomKilled}, exited after ${decision.restartsInWindow} restarts in ${window} min`,
          });
        }
      }
    } else if (c.state === 'running') {
      const healthy = isHealthy(observation, c);
      if (healthy && rec?.healthyAt === undefined) actions.push({ kind: 'mark-healthy', allocationId: d.id });
      // The startup boost ends with the first healthy answer (in the same pass; runtime.ts applies it
      // right after announcing the change).
      if ((healthy || rec?.healthyAt !== undefined) && c.nanoCpus !== undefined && c.nanoCpus !== planNanoCpus(d)) {
        actions.push({ kind: 'limit-cpu', allocationId: d.id, containerId: c.id, nanoCpus: planNanoCpus(d) });
      }
      if (!healthy && rec?.healthyAt === undefined && c.startedAt !== undefined && now - c.startedAt > settings.healthDeadlineMs) {
        const why = observation.health.get(c.id)?.error ?? 'not probed';
        actions.push({ kind: 'fail', allocationId: d.id, containerId: c.id, failure: 'unhealthy', detail: `not healthy ${Math.round(settings.healthDeadlineMs / 1000)} s after start (${why})` });
      }
    }
  }

  // Containers whose allocation is no longer desired. While the app has a desired allocation here
  // that has not yet been healthy (a new release starting, or one that failed to), the old ones
  // keep serving; otherwise they are drained, then stopped and removed.
  const awaited = appsAwaitingHealth(desired, containers, observation, records);
  for (const [allocationId, list] of containers) {
    if (desiredIds.has(allocationId)) continue;
    for (const c of list) {
      if (isLive(c) && awaited.has(c.appId)) continue;
      const remove: Action = { kind: 'remove-container', allocationId, containerId: c.id, reason: 'not-desired' };
      if (isLive(c)) drainThen(c, remove);
      else actions.push(remove);
    }
  }

  const known = new Set([...records.keys(), ...input.ports.keys()]);
  for (const id of known) {
    if (!desiredIds.has(id) && !containers.has(id)) actions.push({ kind: 'forget', allocationId: id });
  }

  const tenantsInUse = new Set([...desired.map((d) => d.tenantId), ...observation.containers.map((c) => c.tenantId)]);
  for (const n of observation.networks) {
    if (!tenantsInUse.has(n.tenantId)) actions.push({ kind: 'remove-network', networkId: n.id, name: n.name });
  }
  return actions;
}

/** Apps with a desired running allocation on this node that has never been healthy. */
export function appsAwaitingHealth(
  desired: readonly DesiredAllocation[],
  containers: ReadonlyMap<string, readonly ObservedContainer[]>,
  observation: Observation,
  records: ReadonlyMap<string, AllocationRecord>,
): Set<string> {
  const apps = new Set<string>();
  for (const d of desired) {
    if (d.desiredStatus !== 'running' || records.get(d.id)?.healthyAt !== undefined) continue;
    if ((containers.get(d.id) ?? []).some((c) => isHealthy(observation, c))) continue;
    apps.add(d.appId);
  }
  return apps;
}

/** The container that stands for the allocation first: matching spec, then live, then newest. */
function primaryFirst(list: readonly ObservedContainer[], hash: string): ObservedContainer[] {
  const score = (c: ObservedContainer) => (c.specHash === hash ? 2 : 0) + (isLive(c) ? 1 : 0);
  return [...list].sort((a, b) => score(b) - score(a) || (b.startedAt ?? 0) - (a.startedAt ?? 0));
}

export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
