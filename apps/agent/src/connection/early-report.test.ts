import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEarlyReport } from './early-report';

describe('early heartbeat on a status change', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = () => {
    const beats: number[] = [];
    const early = createEarlyReport({
      delayMs: 100,
      minGapMs: 1_000,
      now: () => Date.now(),
      beat: () => {
        beats.push(Date.now());
        early.sent();
      },
    });
    return { early, beats };
  };

  it('coalesces changes close together into one heartbeat after the delay', () => {
    const { early, beats } = setup();
    const t0 = Date.now();
    early.request();
    vi.advanceTimersByTime(50);
    early.request();
    early.request();
    vi.advanceTimersByTime(49);
    expect(beats).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(beats).toEqual([t0 + 100]);
    vi.advanceTimersByTime(5_000);
    expect(beats).toHaveLength(1);
  });

  it('keeps its distance from the last heartbeat, regular ones included', () => {
    const { early, beats } = setup();
    const t0 = Date.now();
    early.sent(); // a regular heartbeat just went out
    early.request();
    vi.advanceTimersByTime(999);
    expect(beats).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(beats).toEqual([t0 + 1_000]);
    // a flapping app: at most one early heartbeat a second
    for (let i = 0; i < 50; i++) {
      early.request();
      vi.advanceTimersByTime(100);
    }
    expect(beats.length).toBeLessThanOrEqual(1 + 5);
    for (let i = 1; i < beats.length; i++) expect(beats[i]! - beats[i - 1]!).toBeGreaterThanOrEqual(1_000);
  });

  it('sends nothing once cancelled (the session ended)', () => {
    const { early, beats } = setup();
    early.request();
    early.cancel();
    vi.advanceTimersByTime(10_000);
    expect(beats).toEqual([]);
  });
});
