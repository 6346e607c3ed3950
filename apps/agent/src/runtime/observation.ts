// What the agent sees on the engine at one moment: plain data, the input of the pure planner and
// of the status report. Only objects labelled with this node's id ever appear here.
import type { HealthCheck } from '@karvon/protocol';

/** Docker's container states. */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ObservedContainer {
  id: string;
  allocationId: string;
  appId: string;
  tenantId: string;
  releaseNumber: number;
  specHash: string;
  state: ContainerState;
  exitCode: number;
  oomKilled: boolean;
  /** epoch ms of the last start / exit, when Docker knows one */
  startedAt?: number;
  finishedAt?: number;
  /** the published port on the advertise address */
  hostPort?: number;
  /** the app's port inside the container, and the container's address on its tenant network */
  containerPort?: number;
  ip?: string;
  healthCheck?: HealthCheck;
  /** the CPU limit the container runs with now (Docker's NanoCpus; 0 when none) */
  nanoCpus?: number;
}

export interface ObservedNetwork {
  id: string;
  name: string;
  tenantId: string;
}

export interface HealthResult {
  ok: boolean;
  /** why the last probe failed */
  error?: string;
}

export interface Observation {
  containers: readonly ObservedContainer[];
  networks: readonly ObservedNetwork[];
  /** by container id; only running containers are probed */
  health: ReadonlyMap<string, HealthResult>;
}

/** Running for the planner's purposes: it has a process (paused and restarting included). */
export const isLive = (c: ObservedContainer): boolean => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';

export const isHealthy = (o: Observation, c: ObservedContainer): boolean => c.state === 'running' && o.health.get(c.id)?.ok === true;
