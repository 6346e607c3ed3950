import type { NodeUsage } from '@karvon/protocol';
import { describe, expect, it } from 'vitest';
import { createUsageSource } from './usage-source';

const usage = (cpuPercent: number) => ({ cpuPercent }) as unknown as NodeUsage;

describe('usage for heartbeats', () => {
  it('measures for regular heartbeats and reuses the last measurement for early ones', async () => {
    let calls = 0;
    const source = createUsageSource(() => Promise.resolve(usage(++calls * 10)));
    // An early heartbeat before any measurement measures.
    expect(await source.forHeartbeat(true)).toEqual(usage(10));
    expect(await source.forHeartbeat(true)).toEqual(usage(10));
    expect(calls).toBe(1);
    expect(await source.forHeartbeat(false)).toEqual(usage(20));
    expect(await source.forHeartbeat(true)).toEqual(usage(20));
    expect(calls).toBe(2);
  });

  it('a failed measurement fails that heartbeat and keeps the last good one for early ones', async () => {
    let fail = false;
    const source = createUsageSource(() => (fail ? Promise.reject(new Error('si failed')) : Promise.resolve(usage(5))));
    await source.forHeartbeat(false);
    fail = true;
    await expect(source.forHeartbeat(false)).rejects.toThrow('si failed');
    expect(await source.forHeartbeat(true)).toEqual(usage(5));
  });
});
