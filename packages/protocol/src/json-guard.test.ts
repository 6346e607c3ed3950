import { describe, expect, it } from 'vitest';
import { guardJson, nestsDeeperThan } from './json-guard';

describe('nestsDeeperThan', () => {
  it.each([
    ['[]', 1, false],
    ['[[]]', 1, true],
    ['{"a":{"b":[1]}}', 3, false],
    ['{"a":{"b":[1]}}', 2, true],
    ['["[[[[[["]', 1, false], // brackets inside a string
    ['["\\"[[[["]', 1, false], // …after an escaped quote
    ['["\\\\",[[[]]]]', 4, false], // an escaped backslash ends before the quote
    ['["\\\\",[[[]]]]', 3, true],
    ['["unterminated [[[[', 1, false],
  ])('%s deeper than %i: %s', (text, max, expected) => {
    expect(nestsDeeperThan(text, max)).toBe(expected);
  });
});

describe('guardJson', () => {
  it('measures depth without recursion and drops prototype keys in place', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(guardJson(deep, 32, false)).toEqual({ ok: false, depth: 33 });
    const value = JSON.parse('{"a":[{"__proto__":{"x":1},"constructor":1,"prototype":2,"b":3}]}') as { a: Array<Record<string, unknown>> };
    expect(guardJson(value, 32, true)).toEqual({ ok: true });
    expect(Object.keys(value.a[0]!)).toEqual(['b']);
  });
});
