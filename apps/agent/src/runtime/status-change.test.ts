import { describe, expect, it } from 'vitest';
import type { AllocationStatus } from '@karvon/protocol';
import { createStatusChangeDetector, statusSignature } from './status-change';

const s = (allocationId: string, state: AllocationStatus['state'], extra: Partial<AllocationStatus> = {}): AllocationStatus => ({ allocationId, state, restarts: 0, ...extra });

describe('allocation status changes worth an early report', () => {
  it('ignores order, resource numbers, restarts and messages', () => {
    const a = [s('al_1', 'healthy', { upstream: '127.0.0.1:30001', cpuPercent: 3 }), s('al_2', 'starting')];
    const b = [s('al_2', 'starting', { message: 'pulling' }), s('al_1', 'healthy', { upstream: '127.0.0.1:30001', cpuPercent: 80, memoryMb: 12, restarts: 1 })];
    expect(statusSignature(a)).toBe(statusSignature(b));
  });

  it('sees a state, an upstream, a new and a gone allocation', () => {
    const base = [s('al_1', 'starting')];
    const sig = statusSignature(base);
    expect(statusSignature([s('al_1', 'healthy')])).not.toBe(sig);
    expect(statusSignature([s('al_1', 'starting', { upstream: '127.0.0.1:30001' })])).not.toBe(sig);
    expect(statusSignature([...base, s('al_2', 'starting')])).not.toBe(sig);
    expect(statusSignature([])).not.toBe(sig);
  });

  it('reports the first observation and then only differences', () => {
    const changed = createStatusChangeDetector();
    expect(changed([])).toBe(true);
    expect(changed([])).toBe(false);
    expect(changed([s('al_1', 'starting')])).toBe(true);
    expect(changed([s('al_1', 'starting', { cpuPercent: 5 })])).toBe(false);
    expect(changed([s('al_1', 'healthy', { upstream: '127.0.0.1:30001' })])).toBe(true);
    expect(changed([s('al_1', 'healthy', { upstream: '127.0.0.1:30001' })])).toBe(false);
  });
});
