import type { NodeFacts } from '@karvon/protocol';

export interface Resources {
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
}

/**
 * What a node offers to tenants: its hardware less a reserve for the OS, Docker, the agent and
 * Traefik (10% of CPU and memory with floors of 250 millicores and 256 MB; 10% of disk for images
 * and logs), so a full node still has room to run the system itself.
 */
export function capacityFromFacts(facts: NodeFacts): Resources {
  const cpu = facts.cpu.cores * 1000;
  const mem = facts.memoryMb;
  const disk = facts.disk.totalMb;
  return {
    cpuMillicores: Math.max(0, cpu - Math.max(250, Math.round(cpu * 0.1))),
    memoryMb: Math.max(0, mem - Math.max(256, Math.round(mem * 0.1))),
    diskMb: Math.max(0, Math.round(disk * 0.9)),
  };
}
