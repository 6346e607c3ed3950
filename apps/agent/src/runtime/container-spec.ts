// Docker create options as data (the Kamal way): pure functions, compared field by field in tests.
// Every tenant container gets the SECURITY.md rule 7 baseline; nothing in an allocation can turn
// any of it off, because no allocation field reaches these flags.
import type Docker from 'dockerode';
import type { DesiredAllocation } from '@karvon/protocol';
import { bridgeName, containerLabels, containerName, networkLabels, networkName } from './labels';

const MiB = 1024 * 1024;
/** Docker refuses less than 6 MB of memory and less than 0.01 CPU. */
const MIN_MEMORY_MB = 6;
const MIN_CPU_MILLICORES = 10;
/** Enough for a web app's threads and workers; a fork bomb stops here. */
export const DEFAULT_PIDS_LIMIT = 512;
/** Seconds between SIGTERM and SIGKILL when the agent stops a container. */
export const STOP_TIMEOUT_SECONDS = 10;
/**
 * Startup CPU boost: a new container may use up to this much CPU (never less than its plan) until
 * its first healthy answer, when the planner sets the plan's limit (`limit-cpu`). Starting a
 * runtime (node, npm, python, a JVM) is CPU-bound and multi-threaded: held to a small plan's
 * quarter core, it took 0.7-0.8 s longer to listen. Only the ceiling is raised, only for that
 * window, and only on CPU the node has idle (the CFS weight is every container's default); memory,
 * pids and every other limit are the plan's from the first instant. A replica that never gets
 * healthy is failed and stopped at the health deadline.
 */
export const STARTUP_CPU_MILLICORES = 1000;

/** The plan's CPU limit, as Docker's NanoCpus. */
export function planNanoCpus(a: Pick<DesiredAllocation, 'limits'>): number {
  return Math.max(a.limits.cpuMillicores, MIN_CPU_MILLICORES) * 1_000_000;
}

/** The CPU limit a container is created with: the plan's, raised to the startup boost. */
export function startupNanoCpus(a: Pick<DesiredAllocation, 'limits'>): number {
  return Math.max(planNanoCpus(a), STARTUP_CPU_MILLICORES * 1_000_000);
}

export interface ContainerPlacement {
  nodeId: string;
  /** the node's advertise address: the only host address the app port is published on */
  hostIp: string;
  hostPort: number;
}

export function buildContainerSpec(a: DesiredAllocation, at: ContainerPlacement): Docker.ContainerCreateOptions {
  const portKey = `${a.port}/tcp`;
  const network = networkName(at.nodeId, a.tenantId);
  const memory = Math.max(a.limits.memoryMb, MIN_MEMORY_MB) * MiB;
  return {
    name: containerName(a.id),
    Image: a.image,
    ...(a.command ? { Cmd: [...a.command] } : {}),
    // No `User`: the image's own (non-root) user is kept; buildpack images are built with one.
    Env: containerEnv(a),
    Labels: containerLabels(a, at.nodeId),
    ExposedPorts: { [portKey]: {} },
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    OpenStdin: false,
    Tty: false,
    StopTimeout: STOP_TIMEOUT_SECONDS,
    HostConfig: {
      NetworkMode: network,
      PortBindings: { [portKey]: [{ HostIp: at.hostIp, HostPort: String(at.hostPort) }] },
      PublishAllPorts: false,
      Memory: memory,
      // Equal to Memory: no swap on top of the plan's memory.
      MemorySwap: memory,
      // The plan's limit once healthy (plan.ts `limit-cpu`); the startup boost until then.
      NanoCpus: startupNanoCpus(a),
      PidsLimit: a.limits.pids ?? DEFAULT_PIDS_LIMIT,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      IpcMode: 'private',
      Binds: [],
      Mounts: [],
      Devices: [],
      ExtraHosts: [],
      // The agent restarts crashed containers itself (backoff, crash-loop detection).
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      // A tiny init as PID 1 reaps zombies and forwards SIGTERM: an app running as PID 1 ignores
      // SIGTERM unless it installs a handler, which would turn every stop into a 10 s SIGKILL.
      Init: true,
    },
    NetworkingConfig: { EndpointsConfig: { [network]: {} } },
  };
}

/** The allocation's env, sorted, with PORT set to the port the platform routes to (it wins). */
export function containerEnv(a: DesiredAllocation): string[] {
  const env = { ...a.env, PORT: String(a.port) };
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k as keyof typeof env]}`);
}

/** The tenant's own bridge: tenants never share a network, so one cannot reach another's containers. */
export function buildNetworkSpec(nodeId: string, tenantId: string): Docker.NetworkCreateOptions {
  return {
    Name: networkName(nodeId, tenantId),
    CheckDuplicate: true,
    Driver: 'bridge',
    Internal: false,
    Attachable: false,
    EnableIPv6: false,
    Labels: networkLabels(tenantId, nodeId),
    Options: {
      'com.docker.network.bridge.name': bridgeName(nodeId, tenantId),
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
    },
  };
}
