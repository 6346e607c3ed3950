import { loadavg } from 'node:os';
import type Docker from 'dockerode';
import si from 'systeminformation';
import type { NodeUsage } from '@karvon/protocol';
import { filesystemFor } from './collect-facts';

const MB = 1024 * 1024;

/** One heartbeat's view of the node. Each probe degrades to zero rather than failing the beat. */
export async function collectUsage(docker: Docker, dataRoot: string): Promise<NodeUsage> {
  const [load, mem, filesystems, net, info] = await Promise.all([
    si.currentLoad().catch(() => undefined),
    si.mem().catch(() => undefined),
    si.fsSize().catch(() => []),
    si.networkStats('*').catch(() => []),
    (docker.info() as Promise<{ ContainersRunning?: number }>).catch(() => undefined),
  ]);
  const fs = filesystemFor(dataRoot, filesystems);
  const [l1, l5, l15] = loadavg();
  const clampPercent = (v: number) => Math.min(100, Math.max(0, Number.isFinite(v) ? v : 0));
  return {
    cpuPercent: clampPercent(load?.currentLoad ?? 0),
    load1: l1 ?? 0,
    load5: l5 ?? 0,
    load15: l15 ?? 0,
    memoryUsedMb: Math.floor((mem?.active ?? 0) / MB),
    memoryTotalMb: Math.floor((mem?.total ?? 0) / MB),
    diskUsedMb: Math.floor((fs?.used ?? 0) / MB),
    diskTotalMb: Math.floor((fs?.size ?? 0) / MB),
    netRxBytes: net.reduce((s, n) => s + Math.max(0, n.rx_bytes || 0), 0),
    netTxBytes: net.reduce((s, n) => s + Math.max(0, n.tx_bytes || 0), 0),
    containerCount: info?.ContainersRunning ?? 0,
  };
}
