import { describe, expect, it } from 'vitest';
import { statsFromSample } from './container-stats';

const MB = 1024 * 1024;

describe('statsFromSample', () => {
  const first = {
    cpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 100_000_000_000, online_cpus: 2 },
    memory_stats: { usage: 60 * MB, stats: { inactive_file: 10 * MB } },
    networks: { eth0: { rx_bytes: 1000, tx_bytes: 500 }, eth1: { rx_bytes: 24, tx_bytes: 12 } },
  };

  it('has no CPU figure without a previous sample, and subtracts page cache from memory', () => {
    expect(statsFromSample(first, undefined)).toEqual({ memoryMb: 50, netRxBytes: 1024, netTxBytes: 512 });
  });

  it('computes CPU like docker stats: container delta over system delta, times cores', () => {
    const second = { ...first, cpu_stats: { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 102_000_000_000, online_cpus: 2 } };
    expect(statsFromSample(second, first).cpuPercent).toBe(50);
  });

  it('ignores a counter that went backwards (a restarted container)', () => {
    const restarted = { ...first, cpu_stats: { cpu_usage: { total_usage: 10 }, system_cpu_usage: 200_000_000_000, online_cpus: 2 } };
    expect(statsFromSample(restarted, first)).not.toHaveProperty('cpuPercent');
  });

  it('sums network counters over interfaces, and reports none when Docker lists no networks', () => {
    expect(statsFromSample({ memory_stats: { usage: MB } }, undefined)).toEqual({ memoryMb: 1 });
    expect(statsFromSample({ ...first, networks: {} }, undefined)).toMatchObject({ netRxBytes: 0, netTxBytes: 0 });
  });

  it('ignores counters that are not whole non-negative numbers', () => {
    const odd = { networks: { eth0: { rx_bytes: -5, tx_bytes: Number.NaN }, eth1: { rx_bytes: 10.7, tx_bytes: 3 } } };
    expect(statsFromSample(odd, undefined)).toMatchObject({ netRxBytes: 10, netTxBytes: 3 });
  });
});
