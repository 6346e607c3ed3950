// Per-container CPU, memory and network for heartbeats. One-shot samples (no 1 s wait per
// container); CPU is the delta against the previous heartbeat's sample, so the first report of a
// container has none.
import type Docker from 'dockerode';

export interface ContainerStats {
  /** Docker's measure: 100 is one full core */
  cpuPercent?: number;
  memoryMb: number;
  /** Summed over the container's interfaces since it started; absent when Docker reports none. */
  netRxBytes?: number;
  netTxBytes?: number;
}

/** The fields of Docker's stats answer used here. */
export interface StatsSample {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

const MB = 1024 * 1024;
const MAX_CPU_PERCENT = 409_600;

export function statsFromSample(sample: StatsSample, previous: StatsSample | undefined): ContainerStats {
  const mem = sample.memory_stats;
  // Page cache is reclaimable: `docker stats` subtracts it too (cgroup v2: inactive_file, v1: cache).
  const cache = mem?.stats?.inactive_file ?? mem?.stats?.total_inactive_file ?? mem?.stats?.cache ?? 0;
  const memoryMb = Math.max(0, ((mem?.usage ?? 0) - cache) / MB);
  const out: ContainerStats = { memoryMb: Math.round(memoryMb * 10) / 10 };
  // No `networks` at all (network mode none, or a stopped container) is "unknown", not zero.
  if (sample.networks) {
    const nets = Object.values(sample.networks);
    out.netRxBytes = sumCounters(nets.map((n) => n.rx_bytes));
    out.netTxBytes = sumCounters(nets.map((n) => n.tx_bytes));
  }
  const cpu = sample.cpu_stats;
  const prev = previous?.cpu_stats;
  const cpuDelta = (cpu?.cpu_usage?.total_usage ?? 0) - (prev?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu?.system_cpu_usage ?? 0) - (prev?.system_cpu_usage ?? 0);
  if (prev && systemDelta > 0 && cpuDelta >= 0) {
    const percent = (cpuDelta / systemDelta) * (cpu?.online_cpus ?? 1) * 100;
    out.cpuPercent = Math.min(MAX_CPU_PERCENT, Math.round(percent * 100) / 100);
  }
  return out;
}

/** The heartbeat schema takes whole non-negative numbers: anything else from the engine counts as 0. */
function sumCounters(values: ReadonlyArray<number | undefined>): number {
  let total = 0;
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v) && v > 0) total += Math.trunc(v);
  return Math.min(total, Number.MAX_SAFE_INTEGER);
}

export function createStatsCollector(docker: Docker, timeoutMs = 3_000) {
  let previous = new Map<string, StatsSample>();
  return {
    async collect(containerIds: readonly string[]): Promise<Map<string, ContainerStats>> {
      const out = new Map<string, ContainerStats>();
      const next = new Map<string, StatsSample>();
      await Promise.all(
        containerIds.map(async (id) => {
          try {
            // dockerode passes abortSignal through; its types do not list it for stats.
            const options = { stream: false, 'one-shot': true, abortSignal: AbortSignal.timeout(timeoutMs) } as { stream: false; 'one-shot': boolean };
            const sample = (await docker.getContainer(id).stats(options)) as StatsSample;
            out.set(id, statsFromSample(sample, previous.get(id)));
            next.set(id, sample);
          } catch {
            // Gone or slow: this heartbeat reports the allocation without numbers.
          }
        }),
      );
      previous = next;
      return out;
    },
  };
}
