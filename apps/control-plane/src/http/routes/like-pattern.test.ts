import { describe, expect, it } from 'vitest';
import { escapeLike } from './like-pattern';

describe('escapeLike', () => {
  it('escapes the wildcards and the escape character, nothing else', () => {
    expect(escapeLike('a_b%c\\d')).toBe('a\\_b\\%c\\\\d');
    expect(escapeLike("o'brien+x@example.test")).toBe("o'brien+x@example.test");
    expect(escapeLike('')).toBe('');
  });
});
