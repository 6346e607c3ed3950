// The one place the runtime acts: each planned action becomes dockerode calls and record updates.
// Every action is safe to repeat (a second stop, remove or create of the same thing is a no-op or
// a conflict it recognises), because a pass may be cut short by an agent restart at any point.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { describeAction, type Action } from './actions';
import type { AllocationRecords } from './allocation-records';
import { buildContainerSpec, buildNetworkSpec, STOP_TIMEOUT_SECONDS } from './container-spec';
import { lastLogLines } from './container-logs';
import { restartsInWindow, type CrashPolicy } from './crash-policy';
import { isOwned, networkName } from './labels';
import { isMissingImage, pullImage } from './image-pull';
import type { PortAllocator } from './port-allocator';

/** What the executor keeps in memory only: drains in progress and the last error per allocation. */
export interface VolatileState {
  draining: Map<string, number>;
  lastError: Map<string, { at: number; message: string }>;
}

export interface ExecutorDeps {
  docker: Docker;
  nodeId: string;
  advertiseAddr: string;
  ports: PortAllocator;
  records: AllocationRecords;
  volatile: VolatileState;
  crash: CrashPolicy;
  logger: Logger;
  now(): number;
}

/** Docker's words when the host port was taken outside Karvon: the next pass moves to another port. */
export const PORT_TAKEN = /port is already allocated|address already in use/i;
const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

export function createExecutor(deps: ExecutorDeps) {
  const { docker, records, volatile, logger: log } = deps;

  async function createContainer(a: Extract<Action, { kind: 'create-container' }>['allocation']): Promise<void> {
    const hostPort = await deps.ports.acquire(a.id);
    const spec = buildContainerSpec(a, { nodeId: deps.nodeId, hostIp: deps.advertiseAddr, hostPort });
    let container: Docker.Container;
    try {
      container = await docker.createContainer(spec);
    } catch (e) {
      if (!isMissingImage(e)) throw e;
      await pullImage(docker, a.image, log);
      container = await docker.createContainer(spec);
    }
    try {
      await container.start();
    } catch (e) {
      // Something outside Karvon holds the port: take another one and create again next pass.
      if (PORT_TAKEN.test((e as Error).message)) {
        await container.remove({ force: true }).catch(() => undefined);
        const port = await deps.ports.reassign(a.id);
        log.warn({ allocationId: a.id, taken: hostPort, next: port }, 'host port taken outside Karvon; moving to another');
      }
      throw e;
    }
    log.info({ allocationId: a.id, containerId: container.id.slice(0, 12), hostPort }, 'container started');
  }

  async function stopContainer(containerId: string): Promise<void> {
    try {
      await docker.getContainer(containerId).stop({ t: STOP_TIMEOUT_SECONDS });
    } catch (e) {
      // 304: already stopped; 404: already gone.
      if (statusOf(e) !== 304 && statusOf(e) !== 404) throw e;
    }
  }

  async function run(action: Action): Promise<void> {
    const now = deps.now();
    switch (action.kind) {
      case 'create-network': {
        try {
          await docker.createNetwork(buildNetworkSpec(deps.nodeId, action.tenantId));
        } catch (e) {
          if (statusOf(e) !== 409) throw e;
          // A network with our name exists: fine if it is ours, never adopted if it is not.
          const info = (await docker.getNetwork(networkName(deps.nodeId, action.tenantId)).inspect()) as { Labels?: Record<string, string> };
          if (!isOwned(info.Labels, deps.nodeId)) throw new Error(`a network named ${networkName(deps.nodeId, action.tenantId)} exists and is not this node's`);
        }
        return;
      }
      case 'remove-network':
        await docker.getNetwork(action.networkId).remove().catch((e: unknown) => {
          if (statusOf(e) !== 404) throw e;
        });
        return;
      case 'create-container':
        await createContainer(action.allocation);
        return;
      case 'start-container':
        if (action.restart) {
          // Counted before the start: an agent killed right after still counts the restart.
          await records.update(action.allocationId, (r) => ({
            ...r,
            restarts: r.restarts + 1,
            recentRestarts: [...restartsInWindow(r.recentRestarts, now, deps.crash), now],
          }));
        } else {
          await records.update(action.allocationId, (r) => ({ ...r, stoppedByAgent: false }));
        }
        await docker.getContainer(action.containerId).start();
        return;
      case 'drain':
        volatile.draining.set(action.containerId, now);
        return;
      case 'stop-container':
        await records.update(action.allocationId, (r) => ({ ...r, stoppedByAgent: true }));
        await stopContainer(action.containerId);
        volatile.draining.delete(action.containerId);
        return;
      case 'remove-container':
        await stopContainer(action.containerId);
        await docker
          .getContainer(action.containerId)
          .remove({ force: true, v: true })
          .catch((e: unknown) => {
            if (statusOf(e) !== 404) throw e;
          });
        volatile.draining.delete(action.containerId);
        return;
      case 'mark-healthy':
        await records.update(action.allocationId, (r) => ({ ...r, healthyAt: now }));
        log.info({ allocationId: action.allocationId }, 'allocation healthy');
        return;
      case 'limit-cpu':
        await docker
          .getContainer(action.containerId)
          .update({ NanoCpus: action.nanoCpus })
          .catch((e: unknown) => {
            if (statusOf(e) !== 404) throw e;
          });
        return;
      case 'fail': {
        const lines = await lastLogLines(docker, action.containerId);
        const message = `${action.failure}: ${action.detail}; last log lines:\n${lines.join('\n') || '(none)'}`;
        await records.update(action.allocationId, (r) => ({ ...r, failure: { kind: action.failure, at: now, message }, stoppedByAgent: true }));
        // A release that never got healthy is stopped (kept for inspection); the old one serves on.
        await stopContainer(action.containerId);
        return;
      }
      case 'reset':
        await records.update(action.allocationId, (r) => {
          const { failure: _dropped, ...rest } = r;
          return { ...rest, recentRestarts: [] };
        });
        return;
      case 'adopt-port':
        await deps.ports.adopt(action.allocationId, action.port);
        return;
      case 'forget':
        await deps.ports.release(action.allocationId);
        await records.delete(action.allocationId);
        volatile.lastError.delete(action.allocationId);
        return;
    }
  }

  return {
    /** Runs one action; a failure is logged and remembered for the allocation's status, never thrown. */
    async execute(action: Action): Promise<boolean> {
      const allocationId = 'allocationId' in action ? action.allocationId : action.kind === 'create-container' ? action.allocation.id : undefined;
      try {
        await run(action);
        if (allocationId && action.kind !== 'drain') volatile.lastError.delete(allocationId);
        log.debug(describeAction(action), 'runtime action done');
        return true;
      } catch (e) {
        const message = `${action.kind}: ${(e as Error).message}`;
        log.warn({ ...describeAction(action), err: (e as Error).message }, 'runtime action failed');
        if (allocationId) volatile.lastError.set(allocationId, { at: deps.now(), message });
        return false;
      }
    },
  };
}

export type Executor = ReturnType<typeof createExecutor>;
