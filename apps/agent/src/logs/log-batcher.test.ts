import { describe, expect, it } from 'vitest';
import { LOG_STREAM_WINDOW_CHUNKS, MAX_LINES_PER_FRAME } from '@karvon/protocol';
import { CreditWindow, FramePacer, LogBatcher } from './log-batcher';

const line = (stream: 'stdout' | 'stderr', text: string) => ({ stream, at: '2030-01-01T00:00:00.000Z', text });

describe('LogBatcher', () => {
  it('closes a batch when full, keeps one open batch per stream, and lingers the rest', () => {
    const b = new LogBatcher({ lingerMs: 100 });
    for (let i = 0; i < MAX_LINES_PER_FRAME + 3; i++) b.add(line('stdout', `o${i}`), 0);
    b.add(line('stderr', 'e0'), 10);
    expect(b.closedCount).toBe(1);
    expect(b.take()!.lines).toHaveLength(MAX_LINES_PER_FRAME);
    expect(b.nextDueAt()).toBe(100);
    b.closeDue(99);
    expect(b.closedCount).toBe(0);
    b.closeDue(105);
    expect(b.take()).toMatchObject({ stream: 'stdout', lines: [{ text: `o${MAX_LINES_PER_FRAME}` }, {}, {}] });
    b.closeDue(105, true);
    expect(b.take()).toMatchObject({ stream: 'stderr', lines: [{ text: 'e0' }] });
    expect(b.take()).toBeUndefined();
  });

  it('closes a batch by size before a frame could get near its byte limit', () => {
    const b = new LogBatcher({ lingerMs: 100, maxChars: 1000 });
    for (let i = 0; i < 4; i++) b.add(line('stdout', 'x'.repeat(300)), 0);
    expect(b.closedCount).toBe(1);
    expect(b.take()!.lines).toHaveLength(4);
  });
});

describe('CreditWindow', () => {
  it('allows at most the window in flight; credit reopens it and never goes backwards or past what was sent', () => {
    const w = new CreditWindow();
    expect(w.size).toBe(LOG_STREAM_WINDOW_CHUNKS);
    const seqs = [];
    while (w.canSend()) seqs.push(w.take());
    expect(seqs).toEqual([...Array(LOG_STREAM_WINDOW_CHUNKS).keys()]);
    expect(() => w.take()).toThrow(/full/);
    expect(w.credit(1)).toBe(true);
    expect(w.inFlight).toBe(LOG_STREAM_WINDOW_CHUNKS - 2);
    expect(w.credit(0)).toBe(false);
    // A credit beyond what was sent is clipped: it cannot widen the window.
    expect(w.credit(1000)).toBe(true);
    expect(w.inFlight).toBe(0);
    for (let i = 0; i < LOG_STREAM_WINDOW_CHUNKS; i++) w.take();
    expect(w.canSend()).toBe(false);
    expect(w.maxInFlight).toBe(LOG_STREAM_WINDOW_CHUNKS);
    expect(w.sent).toBe(2 * LOG_STREAM_WINDOW_CHUNKS);
  });
});

describe('FramePacer', () => {
  it('allows a burst, then the rate', () => {
    const p = new FramePacer(10, 2, 0);
    p.take(0);
    p.take(0);
    expect(p.ready(0)).toBe(false);
    expect(p.waitMs(0)).toBe(100);
    expect(p.ready(100)).toBe(true);
  });
});
