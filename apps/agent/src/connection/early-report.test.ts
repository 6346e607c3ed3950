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

  it('reports a burst of changes each after the delay (a replica starting, then healthy), whatever the regular heartbeats', () => {
    const { early, beats } = setup();
    const t0 = Date.now();
    early.sent(); // a regular heartbeat just went out: no reason to wait
    early.request();
    vi.advanceTimersByTime(300);
    early.request();
    vi.advanceTimersByTime(300);
    early.request();
    vi.advanceTimersByTime(300);
    // a rollout's further changes (the old replica stopping, then gone) do not wait either
    early.request();
    vi.advanceTimersByTime(300);
    early.request();
    vi.advanceTimersByTime(100);
    expect(beats).toEqual([t0 + 100, t0 + 400, t0 + 700, t0 + 1000, t0 + 1300]);
  });

  it('holds a flapping app to one early heartbeat a second once its burst is spent', () => {
    const { early, beats } = setup();
    for (let i = 0; i < 100; i++) {
      early.request();
      vi.advanceTimersByTime(100);
    }
    // 10 s: the burst of 5, then one a second
    expect(beats.length).toBeGreaterThanOrEqual(10);
    expect(beats.length).toBeLessThanOrEqual(5 + 10);
    for (let i = 6; i < beats.length; i++) expect(beats[i]! - beats[i - 1]!).toBeGreaterThanOrEqual(1_000);
    // quiet for a while: the burst is back
    vi.advanceTimersByTime(10_000);
    const before = beats.length;
    early.request();
    vi.advanceTimersByTime(100);
    early.request();
    vi.advanceTimersByTime(100);
    expect(beats.length).toBe(before + 2);
  });

  it('sends nothing once cancelled (the session ended)', () => {
    const { early, beats } = setup();
    early.request();
    early.cancel();
    vi.advanceTimersByTime(10_000);
    expect(beats).toEqual([]);
  });
});
