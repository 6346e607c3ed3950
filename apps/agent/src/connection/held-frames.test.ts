import type { Frame } from '@karvon/protocol';
import { describe, expect, it } from 'vitest';
import { createHeldFrames } from './held-frames';

const progress = (seq: number): Frame => ({ type: 'task-progress', payload: { taskId: 'tsk_1', seq, lines: [`line ${seq}`] } });

describe('held frames', () => {
  it('holds task progress in order and hands it over once', () => {
    const held = createHeldFrames();
    expect(held.hold(progress(0))).toBe(true);
    expect(held.hold(progress(1))).toBe(true);
    expect(held.take()).toEqual([progress(0), progress(1)]);
    expect(held.take()).toEqual([]);
  });

  it('drops what is redelivered or sent afresh (results, acks, heartbeats)', () => {
    const held = createHeldFrames();
    expect(held.hold({ type: 'task-result', payload: { taskId: 'tsk_1', status: 'succeeded', result: null } })).toBe(false);
    expect(held.hold({ type: 'task-ack', payload: { taskId: 'tsk_1', duplicate: false } })).toBe(false);
    expect(held.take()).toEqual([]);
  });

  it('keeps the newest frames past its bound', () => {
    const held = createHeldFrames(3);
    for (let i = 0; i < 5; i++) held.hold(progress(i));
    expect(held.take().map((f) => (f.payload as { seq: number }).seq)).toEqual([2, 3, 4]);
  });
});
