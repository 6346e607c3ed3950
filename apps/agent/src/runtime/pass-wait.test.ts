import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPassWait } from './pass-wait';

describe('the wait between passes', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const settled = (p: Promise<void>) => {
    let is = false;
    void p.then(() => (is = true));
    return () => is;
  };

  it('lasts its time when nothing is starting, without probing', async () => {
    const probe = vi.fn(() => Promise.resolve(true));
    const wait = startPassWait({ ms: 1_000, probing: false, probeEveryMs: 25, probe });
    const over = settled(wait.done);
    await vi.advanceTimersByTimeAsync(999);
    expect(over()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(over()).toBe(true);
    expect(probe).not.toHaveBeenCalled();
  });

  it('ends at the first probe that finds a starting replica answering', async () => {
    let answers = false;
    const probe = vi.fn(() => Promise.resolve(answers));
    const wait = startPassWait({ ms: 250, probing: true, probeEveryMs: 25, probe });
    const over = settled(wait.done);
    await vi.advanceTimersByTimeAsync(75);
    expect(probe).toHaveBeenCalledTimes(3);
    expect(over()).toBe(false);
    answers = true;
    await vi.advanceTimersByTimeAsync(25);
    expect(over()).toBe(true);
    expect(probe).toHaveBeenCalledTimes(4);
  });

  it('probes in a wait that starts while the previous wait’s probe loop is still asleep', async () => {
    // The first wait ends by its timer between two probes...
    const first = startPassWait({ ms: 30, probing: true, probeEveryMs: 25, probe: () => Promise.resolve(false) });
    await vi.advanceTimersByTimeAsync(30);
    await first.done;
    // ...and the next one must still find the replica within a probe interval, not at its end.
    const probe = vi.fn(() => Promise.resolve(true));
    const second = startPassWait({ ms: 250, probing: true, probeEveryMs: 25, probe });
    const over = settled(second.done);
    await vi.advanceTimersByTimeAsync(25);
    expect(over()).toBe(true);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('ends when woken, and probes no more after its end; a failing probe counts as no answer', async () => {
    const probe = vi.fn(() => Promise.reject(new Error('connection refused')));
    const wait = startPassWait({ ms: 10_000, probing: true, probeEveryMs: 25, probe });
    const over = settled(wait.done);
    await vi.advanceTimersByTimeAsync(50);
    expect(probe).toHaveBeenCalledTimes(2);
    expect(over()).toBe(false);
    wait.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(over()).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(probe).toHaveBeenCalledTimes(2);
  });
});
