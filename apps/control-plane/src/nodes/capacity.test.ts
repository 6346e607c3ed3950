import { describe, expect, it } from 'vitest';
import { capacityFromFacts } from './capacity';
import { nodeStatus } from './node-status';
import { capacityByRegion } from './node-admin';

const facts = (cores: number, memoryMb: number, diskMb: number) => ({
  hostname: 'h',
  cpu: { cores, model: '' },
  memoryMb,
  disk: { totalMb: diskMb, freeMb: diskMb, path: '/' },
  os: { platform: 'linux', distro: '', release: '', kernel: '', arch: 'x64' },
  dockerVersion: null,
});

describe('capacityFromFacts', () => {
  it('keeps a system reserve with floors', () => {
    expect(capacityFromFacts(facts(2, 2048, 1000))).toEqual({ cpuMillicores: 1750, memoryMb: 1792, diskMb: 900 });
    expect(capacityFromFacts(facts(32, 131072, 1_000_000))).toEqual({ cpuMillicores: 28800, memoryMb: 117965, diskMb: 900_000 });
    expect(capacityFromFacts(facts(1, 128, 0))).toEqual({ cpuMillicores: 750, memoryMb: 0, diskMb: 0 });
  });
});

describe('nodeStatus', () => {
  it('lets admin decisions win over liveness', () => {
    expect(nodeStatus('active', 'suspect')).toBe('suspect');
    expect(nodeStatus('draining', 'online')).toBe('draining');
    expect(nodeStatus('disabled', 'offline')).toBe('disabled');
  });
});

describe('capacityByRegion', () => {
  it('sums per region and counts nodes by status', () => {
    const r = { cpuMillicores: 1000, memoryMb: 1000, diskMb: 1000 };
    const nodes = [
      { region: 'b', status: 'online', capacity: r, allocated: { ...r, cpuMillicores: 500 }, usage: { cpuPercent: 50, memoryMb: 10, diskMb: 1 }, facts: { cpu: { cores: 2 } } },
      { region: 'a', status: 'offline', capacity: r, allocated: r, usage: { cpuPercent: 0, memoryMb: 0, diskMb: 0 }, facts: {} },
      { region: 'b', status: 'online', capacity: r, allocated: r, usage: { cpuPercent: 25, memoryMb: 5, diskMb: 2 }, facts: { cpu: { cores: 4 } } },
    ];
    const out = capacityByRegion(nodes);
    expect(out.map((x) => x.region)).toEqual(['a', 'b']);
    expect(out[1]).toEqual({
      region: 'b',
      nodes: { online: 2 },
      total: { cpuMillicores: 2000, memoryMb: 2000, diskMb: 2000 },
      allocated: { cpuMillicores: 1500, memoryMb: 2000, diskMb: 2000 },
      used: { cpuMillicores: 2000, memoryMb: 15, diskMb: 3 },
    });
  });
});
