import { describe, expect, it } from 'vitest';
import type { AllocationSpec } from './allocation-spec';
import { allocationColumns } from './allocation-rows';

const spec = (image: string): AllocationSpec => ({ tenantId: 't', releaseId: 'r', releaseNumber: 1, image, env: {}, port: 8080, healthCheck: { type: 'tcp' } });
const small = { cpuMillicores: 250, memoryMb: 256, diskMb: 512 };

describe('allocationColumns', () => {
  it('gives one row per replica, in order, with a fresh id each', () => {
    const s = spec('a:1');
    const c = allocationColumns([
      { appId: 'app_a', releaseId: 'rel_a', deployId: 'dep_a', resources: small, nodeIds: ['n1', 'n2'], spec: s },
      { appId: 'app_b', releaseId: null, replaces: 'alloc_old', resources: { cpuMillicores: 1, memoryMb: 2, diskMb: 3 }, nodeIds: ['n2'], spec: spec('b:1') },
    ]);
    expect(c.nodeId).toEqual(['n1', 'n2', 'n2']);
    expect(c.appId).toEqual(['app_a', 'app_a', 'app_b']);
    expect(c.releaseId).toEqual(['rel_a', 'rel_a', null]);
    expect(c.deployId).toEqual(['dep_a', 'dep_a', null]);
    expect(c.replaces).toEqual([null, null, 'alloc_old']);
    expect([c.cpu, c.memory, c.disk]).toEqual([
      [250, 250, 1],
      [256, 256, 2],
      [512, 512, 3],
    ]);
    expect(new Set(c.id).size).toBe(3);
    expect(c.id.every((id) => id.startsWith('alloc_'))).toBe(true);
  });

  it('sends a spec object once however many rows use it', () => {
    const shared = spec('a:1');
    const lookalike = spec('a:1');
    const c = allocationColumns([
      { appId: 'app_a', releaseId: null, resources: small, nodeIds: ['n1', 'n2', 'n3'], spec: shared },
      { appId: 'app_b', releaseId: null, resources: small, nodeIds: ['n1'], spec: lookalike },
      { appId: 'app_a', releaseId: null, resources: small, nodeIds: ['n4'], spec: shared },
    ]);
    expect(c.specs).toHaveLength(2);
    expect(c.specs[0]).toBe(shared);
    expect(c.specs[1]).toBe(lookalike);
    expect(c.specAt).toEqual([0, 0, 0, 1, 0]);
  });

  it('writes nothing for an empty batch', () => {
    const c = allocationColumns([]);
    expect([c.id, c.nodeId, c.specAt, c.specs]).toEqual([[], [], [], []]);
  });
});
