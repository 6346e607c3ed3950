import { describe, expect, it } from 'vitest';
import { FlushQueue } from './flush-queue';

describe('FlushQueue', () => {
  it('coalesces wake-ups per node and merges their kinds', () => {
    const q = new FlushQueue();
    q.add('a', 'state');
    q.add('a', 'task');
    q.add('b', 'task');
    q.add('b', 'task');
    expect(q.take(10)).toEqual([
      ['a', { state: true, tasks: true }],
      ['b', { state: false, tasks: true }],
    ]);
    expect(q.ready).toBe(false);
  });

  it('takes at most the batch size, oldest wake-up first', () => {
    const q = new FlushQueue();
    for (const id of ['a', 'b', 'c']) q.add(id);
    expect(q.take(2).map(([id]) => id)).toEqual(['a', 'b']);
    expect(q.take(2).map(([id]) => id)).toEqual(['c']);
    expect(q.take(2)).toEqual([]);
  });

  it('keeps a node woken during its batch for the next batch, never two at once', () => {
    const q = new FlushQueue();
    q.add('a', 'state');
    const first = q.take(10);
    q.add('a', 'task');
    q.add('b');
    expect(q.ready).toBe(true);
    // a is still in flight: only b can go
    expect(q.take(10).map(([id]) => id)).toEqual(['b']);
    expect(q.ready).toBe(false);
    q.done(first.map(([id]) => id));
    expect(q.ready).toBe(true);
    expect(q.take(10)).toEqual([['a', { state: false, tasks: true }]]);
  });

  it('forgets a pending node', () => {
    const q = new FlushQueue();
    q.add('a');
    q.forget('a');
    expect(q.ready).toBe(false);
    expect(q.take(5)).toEqual([]);
  });

  it('tells whether a node waits for a flush or is in one (no direct send then)', () => {
    const q = new FlushQueue();
    expect(q.has('a')).toBe(false);
    q.add('a', 'state');
    expect(q.has('a')).toBe(true);
    q.take(1);
    expect(q.has('a')).toBe(true);
    q.done(['a']);
    expect(q.has('a')).toBe(false);
  });
});
