import { describe, expect, it } from 'vitest';
import { notifyPayloads, parseWakeup } from './node-wakeups';

describe('wake-up payloads', () => {
  it('round-trips node ids, 200 to a payload (NOTIFY payloads stop at 8000 bytes)', () => {
    const ids = Array.from({ length: 450 }, (_, i) => `node_${String(i).padStart(20, '0')}`);
    const payloads = notifyPayloads(ids, 'task');
    expect(payloads).toHaveLength(3);
    expect(Math.max(...payloads.map((p) => Buffer.byteLength(p)))).toBeLessThan(8000);
    expect(payloads.flatMap((p) => parseWakeup(p)!.nodeIds)).toEqual(ids);
    expect(parseWakeup(payloads[0])!.kind).toBe('task');
  });

  it('ignores anything else on the channel', () => {
    expect(parseWakeup(undefined)).toBeUndefined();
    expect(parseWakeup('')).toBeUndefined();
    expect(parseWakeup('certs:node_1')).toBeUndefined();
    expect(parseWakeup('state:')).toBeUndefined();
  });
});
