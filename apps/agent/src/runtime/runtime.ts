// The node's container runtime: observe → plan → execute, on every desired-state change and on a
// timer (fast while anything is in motion). It starts from what the engine shows, so a restarted
// agent re-adopts running containers by label and leaves them running.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { AllocationStatus, DesiredAllocation } from '@karvon/protocol';
import { describeAction, type Action } from './actions';
import { createAllocationRecords } from './allocation-records';
import { describeAllocations } from './allocation-status';
import { createStatsCollector, type ContainerStats } from './container-stats';
import { DEFAULT_CRASH_POLICY, type CrashPolicy } from './crash-policy';
import { createExecutor, type VolatileState } from './executor';
import { createHealthMonitor } from './health-monitor';
import { observeContainers, observeNetworks } from './observe';
import type { Observation } from './observation';
import { startPassWait } from './pass-wait';
import { plan, type PlanSettings } from './plan';
import { createPortAllocator, type PortRange } from './port-allocator';
import { createStatusChangeDetector } from './status-change';

export interface RuntimeOptions {
  docker: Docker;
  nodeId: string;
  stateDir: string;
  /** the only host address app ports are published on */
  advertiseAddr: string;
  portRange: PortRange;
  healthDeadlineMs: number;
  drainMs: number;
  logger: Logger;
  crash?: CrashPolicy;
  retryMs?: number;
  /** pass interval while something is starting, draining or waiting to restart */
  busyIntervalMs?: number;
  /** pass interval while a started container waits for its first healthy probe */
  startingIntervalMs?: number;
  /** pass interval once everything is settled */
  idleIntervalMs?: number;
  now?: () => number;
  /** after a pass whose allocation states or upstreams differ from the previous pass's */
  onStatusChange?: () => void;
}

/** States that need no quick follow-up pass (an unhealthy app is probed at its own interval). */
const SETTLED = new Set<AllocationStatus['state']>(['healthy', 'unhealthy', 'stopped', 'failed']);
const EMPTY: Observation = { containers: [], networks: [], health: new Map() };
/** Between passes, a starting replica is probed this often; its first good answer starts a pass. */
const QUICK_PROBE_MS = 25;

export function createRuntime(opts: RuntimeOptions) {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: 'runtime' });
  const records = createAllocationRecords(opts.stateDir);
  const ports = createPortAllocator(opts.stateDir, opts.portRange);
  const volatile: VolatileState = { draining: new Map(), lastError: new Map() };
  const crash = opts.crash ?? DEFAULT_CRASH_POLICY;
  const settings: PlanSettings = { healthDeadlineMs: opts.healthDeadlineMs, drainMs: opts.drainMs, retryMs: opts.retryMs ?? 5_000, crash };
  const executor = createExecutor({ docker: opts.docker, nodeId: opts.nodeId, advertiseAddr: opts.advertiseAddr, ports, records, volatile, crash, logger: log, now });
  const health = createHealthMonitor(opts.advertiseAddr);
  const stats = createStatsCollector(opts.docker);
  const busyMs = opts.busyIntervalMs ?? 1_000;
  // A new replica is routed (and a rollout moves on) only once a probe finds it healthy: probe it
  // often until then, instead of a second after it started listening.
  const startingMs = Math.min(busyMs, opts.startingIntervalMs ?? 250);
  const idleMs = opts.idleIntervalMs ?? 10_000;

  let desired: readonly DesiredAllocation[] | undefined;
  let observation: Observation = EMPTY;
  let passes = 0;
  let busy = true;
  let starting = false;
  let justStarted = false;
  const statusChanged = createStatusChangeDetector();
  // What the last report carried: a report with states it did not carry is an early one (a route
  // or a rollout waits for it) and goes without collecting numbers, with the last ones collected.
  const reportChanged = createStatusChangeDetector();
  let lastStats: ReadonlyMap<string, ContainerStats> = new Map();
  let current: Promise<Action[]> = Promise.resolve([]);
  let loop: Promise<void> | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  const everHealthy = (c: { allocationId: string }) => records.get(c.allocationId)?.healthyAt !== undefined;

  async function pass(): Promise<Action[]> {
    const [containers, networks] = await Promise.all([observeContainers(opts.docker, opts.nodeId), observeNetworks(opts.docker, opts.nodeId)]);
    const t = now();
    const probed = await health.check(containers, everHealthy, t);
    observation = { containers, networks, health: probed };
    // A drain whose container vanished behind the agent's back is over.
    const present = new Set(containers.map((c) => c.id));
    for (const id of volatile.draining.keys()) if (!present.has(id)) volatile.draining.delete(id);
    if (passes++ === 0 && containers.length > 0) {
      log.info({ containers: containers.map((c) => ({ allocationId: c.allocationId, id: c.id.slice(0, 12), state: c.state })) }, 'adopted existing containers');
    }
    // Without a desired state (none received, none on disk) nothing is removed: an empty guess
    // would stop every tenant's app.
    if (!desired) return [];
    const actions = plan({
      desired,
      observation,
      records: records.all(),
      ports: ports.all(),
      draining: volatile.draining,
      lastErrorAt: new Map([...volatile.lastError].map(([id, e]) => [id, e.at])),
      settings,
      now: now(),
    });
    // The CPU limit that ends a startup boost goes to the engine right after the pass announces
    // the change: the node's route takes a replica that turned healthy without waiting for that
    // update (about 20 ms), and the boost is itself a CPU limit, so one is always in force.
    const act = async (action: Action) => {
      if (action.kind !== 'drain' && action.kind !== 'mark-healthy') log.info(describeAction(action), 'runtime action');
      await executor.execute(action);
    };
    for (const action of actions) if (action.kind !== 'limit-cpu') await act(action);
    const statuses = statusesWith(new Map());
    busy = actions.length > 0 || volatile.draining.size > 0 || statuses.some((s) => !SETTLED.has(s.state));
    // A container just created or started is not in this pass's observation: look again soon.
    justStarted = actions.some((a) => a.kind === 'create-container' || a.kind === 'start-container');
    starting = justStarted || statuses.some((s) => s.state === 'starting' && s.containerId !== undefined);
    if (statusChanged(statuses)) {
      opts.onStatusChange?.();
    }
    for (const action of actions) if (action.kind === 'limit-cpu') await act(action);
    return actions;
  }

  function statusesWith(statsById: ReadonlyMap<string, ContainerStats>): AllocationStatus[] {
    return describeAllocations({ desired, observation, records: records.all(), draining: volatile.draining, lastError: volatile.lastError, stats: statsById, advertiseAddr: opts.advertiseAddr });
  }

  /** one observe → plan → execute pass (never two at once); returns the actions it took */
  function reconcileOnce(): Promise<Action[]> {
    const next = current.catch(() => []).then(pass);
    current = next;
    return next;
  }

  return {
    async load(): Promise<void> {
      await Promise.all([records.load(), ports.load()]);
    },
    /** the allocations to converge on; wakes the loop */
    setDesired(allocations: readonly DesiredAllocation[]): void {
      desired = allocations;
      wake?.();
    },
    /** one observe → plan → execute pass (never two at once); returns the actions it took */
    reconcileOnce,
    /** every allocation's state as of the last pass, without resource numbers (cheap) */
    statuses(): AllocationStatus[] {
      return statusesWith(new Map());
    },
    /**
     * The heartbeat's view: statuses with each running container's CPU, memory and restarts.
     * Collecting the numbers takes a while on a busy engine (one stats call per container): a
     * report whose states changed since the last one does not wait for them and carries the
     * numbers of the previous collection instead (none yet for a new container).
     */
    async report(): Promise<AllocationStatus[]> {
      if (reportChanged(statusesWith(new Map()))) {
        return statusesWith(lastStats);
      }
      const live = observation.containers.filter((c) => c.state === 'running').map((c) => c.id);
      lastStats = await stats.collect(live);
      return statusesWith(lastStats);
    },
    start(): void {
      if (loop) return;
      loop = (async () => {
        while (!stopped) {
          try {
            await reconcileOnce();
          } catch (e) {
            // The engine is down or refusing: retry at the idle pace rather than spin and spam.
            busy = false;
            starting = false;
            justStarted = false;
            log.warn({ err: (e as Error).message }, 'reconcile pass failed');
          }
          if (stopped) break;
          const wait = startPassWait({
            ms: justStarted ? QUICK_PROBE_MS : starting ? startingMs : busy ? busyMs : idleMs,
            probing: starting,
            probeEveryMs: QUICK_PROBE_MS,
            probe: () => health.probeStarting(observation.containers, everHealthy, now()),
          });
          wake = wait.wake;
          await wait.done;
          wake = undefined;
        }
      })();
    },
    /** stops the loop after the pass in progress; containers keep running */
    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      await loop;
      await current.catch(() => undefined);
    },
  };
}

export type Runtime = ReturnType<typeof createRuntime>;
