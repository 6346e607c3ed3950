import { describe, expect, it } from 'vitest';
import { hashSecret, newSecret, safeEqual, secretKind } from './secret-tokens';

describe('secret tokens', () => {
  it('makes prefixed, distinct secrets and recognises their kind', () => {
    const a = newSecret('kvt');
    expect(secretKind(a)).toBe('kvt');
    expect(newSecret('kvt')).not.toBe(a);
    expect(secretKind('kvt_short')).toBeUndefined();
    expect(secretKind('eyJhbGciOi.x.y')).toBeUndefined();
  });

  it('hashes deterministically and compares safely across unequal lengths', () => {
    expect(hashSecret('x')).toBe(hashSecret('x'));
    expect(hashSecret('x')).not.toBe(hashSecret('y'));
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
