import { describe, expect, it } from 'vitest';
import { INITIAL_RECONNECT, RESTART_TRIES, RESTART_WINDOW_MS, backoffDelay, nextReconnect } from './backoff';

describe('backoffDelay', () => {
  it('grows exponentially between half and all of the bound, and caps at 60 s', () => {
    expect(backoffDelay(0, () => 0)).toBe(500);
    expect(backoffDelay(0, () => 0.999999)).toBe(999);
    expect(backoffDelay(3, () => 0)).toBe(4_000);
    expect(backoffDelay(10, () => 0.999999)).toBe(59_999);
    expect(backoffDelay(1_000, () => 0.5)).toBe(45_000);
  });

  it('spreads a fleet: different draws give different delays', () => {
    const draws = [0.1, 0.4, 0.7, 0.9].map((r) => backoffDelay(5, () => r));
    expect(new Set(draws).size).toBe(4);
  });
});

describe('nextReconnect', () => {
  const lost = { welcomed: true, restartAnnounced: false } as const;
  const restart = { welcomed: true, restartAnnounced: true } as const;
  const failed = { welcomed: false } as const;

  it('after a lost session: the usual jittered exponential backoff, reset by a welcome', () => {
    let s = nextReconnect(INITIAL_RECONNECT, lost, () => 0);
    expect(s.delayMs).toBe(500);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      s = nextReconnect(s.state, failed, () => 0);
      delays.push(s.delayMs);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(nextReconnect(s.state, lost, () => 0.999999).delayMs).toBe(999);
  });

  it('after an announced restart: tries within the short jittered window, then escalates as usual', () => {
    let s = nextReconnect({ attempt: 7, restartTriesLeft: 0 }, restart, () => 0.999999);
    expect(s.delayMs).toBe(RESTART_WINDOW_MS - 1);
    expect(nextReconnect(INITIAL_RECONNECT, restart, () => 0).delayMs).toBe(0);
    for (let i = 0; i < RESTART_TRIES; i++) {
      s = nextReconnect(s.state, failed, () => 0.5);
      expect(s.delayMs).toBe(RESTART_WINDOW_MS / 2);
    }
    s = nextReconnect(s.state, failed, () => 0);
    expect(s.delayMs).toBe(1_000);
    s = nextReconnect(s.state, failed, () => 0);
    expect(s.delayMs).toBe(2_000);
  });

  it('a fleet told of a restart spreads over the window instead of arriving at once', () => {
    const draws = [0.1, 0.4, 0.7, 0.9].map((r) => nextReconnect(INITIAL_RECONNECT, restart, () => r).delayMs);
    expect(new Set(draws).size).toBe(4);
    expect(Math.max(...draws)).toBeLessThan(RESTART_WINDOW_MS);
  });

  it('a session lost without the announcement ends the restart tries', () => {
    const inRestart = nextReconnect(INITIAL_RECONNECT, restart, () => 0).state;
    expect(nextReconnect(inRestart, lost, () => 0).state).toEqual(INITIAL_RECONNECT);
  });
});
