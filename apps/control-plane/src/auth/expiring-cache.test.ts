import { describe, expect, it } from 'vitest';
import { createExpiringCache } from './expiring-cache';

describe('createExpiringCache', () => {
  it('forgets an entry at its expiry time, not before', () => {
    let t = 1_000;
    const c = createExpiringCache<string, number>({ max: 10, now: () => t });
    c.set('a', 1, 2_000);
    t = 1_999;
    expect(c.get('a')).toBe(1);
    t = 2_000;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('stores nothing already expired, and drops the oldest past its bound', () => {
    const c = createExpiringCache<string, number>({ max: 2, now: () => 0 });
    c.set('dead', 0, 0);
    expect(c.get('dead')).toBeUndefined();
    c.set('a', 1, 10);
    c.set('b', 2, 10);
    c.set('c', 3, 10);
    expect(c.size).toBe(2);
    expect(c.get('a')).toBeUndefined();
    expect([c.get('b'), c.get('c')]).toEqual([2, 3]);
  });

  it('deletes by key and by value', () => {
    const c = createExpiringCache<string, { owner: string }>({ max: 10, now: () => 0 });
    c.set('x', { owner: 'u1' }, 10);
    c.set('y', { owner: 'u2' }, 10);
    c.set('z', { owner: 'u1' }, 10);
    c.deleteWhere((v) => v.owner === 'u1');
    expect([c.get('x'), c.get('y'), c.get('z')]).toEqual([undefined, { owner: 'u2' }, undefined]);
    c.delete('y');
    expect(c.size).toBe(0);
  });
});
