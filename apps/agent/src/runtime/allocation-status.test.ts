import { describe, expect, it } from 'vitest';
import { allocationStatusSchema } from '@karvon/protocol';
import { clip, describeAllocations, type StatusInput } from './allocation-status';
import { allocation, containerFor, observation, record, T0 } from './testing';

const a1 = allocation('alloc_1');
const c1 = containerFor(a1);
const b1 = allocation('alloc_2', { releaseNumber: 2 });
const cb1 = containerFor(b1, { hostPort: 20002 });

const input = (over: Partial<StatusInput>): StatusInput => ({
  desired: [a1],
  observation: observation([c1], [c1.id]),
  records: new Map(),
  draining: new Map(),
  lastError: new Map(),
  stats: new Map(),
  advertiseAddr: '10.0.0.5',
  ...over,
});

describe('describeAllocations', () => {
  it('reports a healthy container with its upstream and numbers', () => {
    const [s] = describeAllocations(input({ stats: new Map([[c1.id, { cpuPercent: 12.5, memoryMb: 40.2, netRxBytes: 1, netTxBytes: 2 }]]), records: new Map([[a1.id, record({ restarts: 2 })]]) }));
    expect(s).toEqual({
      allocationId: a1.id,
      state: 'healthy',
      containerId: c1.id,
      upstream: '10.0.0.5:20001',
      restarts: 2,
      cpuPercent: 12.5,
      memoryMb: 40.2,
      netRxBytes: 1,
      netTxBytes: 2,
      startedAt: new Date(T0 - 60_000).toISOString(),
    });
    expect(allocationStatusSchema.safeParse(s).success).toBe(true);
  });

  it('leaves network counters out when Docker gave none', () => {
    const [s] = describeAllocations(input({ stats: new Map([[c1.id, { memoryMb: 40.2 }]]) }));
    expect(s).toMatchObject({ memoryMb: 40.2 });
    expect(s).not.toHaveProperty('netRxBytes');
    expect(s).not.toHaveProperty('netTxBytes');
  });

  it('gives no upstream before the first healthy probe, nor while draining', () => {
    expect(describeAllocations(input({ observation: observation([c1]) }))[0]).toMatchObject({ state: 'starting' });
    expect(describeAllocations(input({ observation: observation([c1]) }))[0]).not.toHaveProperty('upstream');
    const draining = describeAllocations(input({ draining: new Map([[c1.id, T0]]) }))[0];
    expect(draining).toMatchObject({ state: 'healthy', message: 'draining' });
    expect(draining).not.toHaveProperty('upstream');
  });

  it('tells starting from unhealthy by whether the allocation was ever healthy', () => {
    const s = describeAllocations(input({ observation: observation([c1]), records: new Map([[a1.id, record({ healthyAt: T0 })]]) }))[0];
    expect(s).toMatchObject({ state: 'unhealthy' });
  });

  it('reports a crash loop as its own state with its message, and a lost create as failed with the error', () => {
    const failed = describeAllocations(input({ observation: observation([{ ...c1, state: 'exited' }]), records: new Map([[a1.id, record({ restarts: 3, failure: { kind: 'crash-loop', at: T0, message: 'crash-loop: exit code 3' } })]]) }))[0];
    expect(failed).toMatchObject({ state: 'crash-loop', restarts: 3, message: 'crash-loop: exit code 3' });
    expect(allocationStatusSchema.safeParse(failed).success).toBe(true);
    const gone = describeAllocations(input({ observation: observation([]), records: new Map([[a1.id, record({ restarts: 3, failure: { kind: 'crash-loop', at: T0, message: 'm' } })]]) }))[0];
    expect(gone).toEqual({ allocationId: a1.id, state: 'crash-loop', restarts: 3, message: 'm' });
    const unhealthy = describeAllocations(input({ records: new Map([[a1.id, record({ failure: { kind: 'unhealthy', at: T0, message: 'unhealthy: x' } })]]) }))[0];
    expect(unhealthy).toMatchObject({ state: 'failed', message: 'unhealthy: x' });
    const noImage = describeAllocations(input({ observation: observation([]), lastError: new Map([[a1.id, { at: T0, message: 'create-container: no such image' }]]) }))[0];
    expect(noImage).toEqual({ allocationId: a1.id, state: 'failed', restarts: 0, message: 'create-container: no such image' });
    // A host port taken outside Karvon is retried on another port: starting, with the reason.
    const portTaken = 'create-container: driver failed programming external connectivity: Bind for 127.0.0.1:21042 failed: port is already allocated';
    const moving = describeAllocations(input({ observation: observation([]), lastError: new Map([[a1.id, { at: T0, message: portTaken }]]) }))[0];
    expect(moving).toEqual({ allocationId: a1.id, state: 'starting', restarts: 0, message: portTaken });
  });

  it('reports an exited container waiting for its restart, and a stopped one', () => {
    expect(describeAllocations(input({ observation: observation([{ ...c1, state: 'exited', exitCode: 137, oomKilled: true }]) }))[0]).toMatchObject({
      state: 'exited',
      message: 'exit code 137 (out of memory); restarting with backoff',
    });
    expect(describeAllocations(input({ desired: [{ ...a1, desiredStatus: 'stopped' }], observation: observation([{ ...c1, state: 'exited' }]) }))[0]).toMatchObject({ state: 'stopped' });
    expect(describeAllocations(input({ desired: [{ ...a1, desiredStatus: 'stopped' }], observation: observation([]) }))[0]).toEqual({ allocationId: a1.id, state: 'stopped', restarts: 0 });
  });

  it('reports a replaced container kept serving during a rollout', () => {
    const all = describeAllocations(input({ desired: [b1], observation: observation([c1, cb1], [c1.id]) }));
    expect(all.map((s) => [s.allocationId, s.state, s.upstream])).toEqual([
      [b1.id, 'starting', undefined],
      [a1.id, 'healthy', '10.0.0.5:20001'],
    ]);
    expect(all[1]?.message).toMatch(/kept serving/);
  });

  it('reports adopted containers before any desired state is known', () => {
    expect(describeAllocations(input({ desired: undefined }))[0]).toMatchObject({ allocationId: a1.id, message: 'adopted; waiting for a desired state' });
  });

  it('brackets IPv6 advertise addresses, and every status fits the protocol', () => {
    const all = describeAllocations(input({ advertiseAddr: 'fd00::5' }));
    expect(all[0]?.upstream).toBe('[fd00::5]:20001');
    for (const s of all) expect(allocationStatusSchema.safeParse(s).success).toBe(true);
  });
});

describe('clip', () => {
  it('keeps the first line and the end of a long message within the limit', () => {
    const text = `crash-loop: exit code 1\n${Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n')}`;
    const clipped = clip(text, 200);
    expect(clipped.length).toBe(200);
    expect(clipped.startsWith('crash-loop: exit code 1\n…\n')).toBe(true);
    expect(clipped.endsWith('line 499')).toBe(true);
  });
});
