import { describe, expect, it } from 'vitest';
import { DomainError } from '../domain/errors';
import { parseInput } from '../http/validate';
import { envNameProblem, envNamesAfter, envPatchSchema, envValueProblem, MAX_ENV_VALUE_BYTES, MAX_ENV_VARS_PER_APP } from './env-vars';

/** the VALIDATION_FAILED field paths a body is refused with */
function refusedFields(body: unknown): string[] {
  try {
    parseInput(envPatchSchema, body);
  } catch (e) {
    if (e instanceof DomainError && e.code === 'VALIDATION_FAILED') return (e.details!.fields as { path: string }[]).map((f) => f.path);
    throw e;
  }
  throw new Error('expected VALIDATION_FAILED');
}

describe('env var names and values', () => {
  it('accepts POSIX names up to 128 characters', () => {
    for (const n of ['A', '_', 'DATABASE_URL', 'lower_case', 'x1', 'N'.repeat(128), 'KARVONX', 'PORTS', 'port']) expect(envNameProblem(n)).toBeUndefined();
  });

  it('refuses non-POSIX, overlong and reserved names', () => {
    for (const n of ['', '1A', 'A-B', 'A B', 'A=B', 'A\nB', 'Ä', 'A.B', '$A', 'N'.repeat(129)]) expect(envNameProblem(n)).toMatch(/POSIX|characters/);
    for (const n of ['PORT', 'KARVON_APP_ID', 'KARVON_']) expect(envNameProblem(n)).toMatch(/reserved/);
    expect(envNameProblem('__proto__')).toMatch(/reserved/);
  });

  it('accepts values up to 32 KiB of UTF-8 with newlines; refuses NUL and larger', () => {
    expect(envValueProblem('')).toBeUndefined();
    expect(envValueProblem('line1\nline2')).toBeUndefined();
    expect(envValueProblem('x'.repeat(MAX_ENV_VALUE_BYTES))).toBeUndefined();
    expect(envValueProblem('x'.repeat(MAX_ENV_VALUE_BYTES + 1))).toMatch(/at most/);
    // counted in bytes, not characters: 2-byte letters reach the limit at half the length
    expect(envValueProblem('я'.repeat(MAX_ENV_VALUE_BYTES / 2 + 1))).toMatch(/at most/);
    expect(envValueProblem('a\0b')).toMatch(/NUL/);
  });
});

describe('PATCH env body', () => {
  it('parses plain and secret values and unset names', () => {
    const patch = parseInput(envPatchSchema, { set: { A: '1', B: { value: 's', secret: true }, C: { value: 'c' } }, unset: ['D', 'D'] });
    expect(patch).toEqual({
      set: [
        { key: 'A', value: '1', secret: false },
        { key: 'B', value: 's', secret: true },
        { key: 'C', value: 'c', secret: false },
      ],
      unset: ['D'],
    });
  });

  it('names the field of every refusal', () => {
    expect(refusedFields({ set: { '1BAD': 'x', PORT: '1', KARVON_X: 'y' } })).toEqual(['set.1BAD', 'set.PORT', 'set.KARVON_X']);
    expect(refusedFields({ set: { FOO: 'a\0b' } })).toEqual(['set.FOO']);
    expect(refusedFields({ set: { FOO: 'x'.repeat(MAX_ENV_VALUE_BYTES + 1) } })).toEqual(['set.FOO']);
    expect(refusedFields({ set: { FOO: 5 } })).toEqual(['set.FOO']);
    expect(refusedFields({ set: { FOO: { value: 'x', secret: 'yes' } } })).toEqual(['set.FOO']);
    expect(refusedFields({ set: { FOO: { value: 'x', extra: 1 } } })).toEqual(['set.FOO']);
    expect(refusedFields({ unset: ['OK', 'bad-name'] })).toEqual(['unset.1']);
    expect(refusedFields({ set: { OK: 'v' }, unset: ['OK'] })).toEqual(['unset.0']);
    expect(new Set(refusedFields({ other: 1 }))).toEqual(new Set(['body']));
    expect(refusedFields({})).toEqual(['body']);
    expect(refusedFields({ set: {}, unset: [] })).toEqual(['body']);
  });

  it('refuses a __proto__ key by name instead of dropping it', () => {
    expect(refusedFields(JSON.parse('{"set":{"__proto__":"x"}}'))).toEqual(['set.__proto__']);
    expect(refusedFields({ unset: ['__proto__'] })).toEqual(['unset.0']);
  });

  it('refuses more than the per-app limit in one body', () => {
    const set = Object.fromEntries(Array.from({ length: MAX_ENV_VARS_PER_APP + 1 }, (_, i) => [`V${i}`, 'x']));
    expect(refusedFields({ set })).toEqual(['set']);
  });
});

describe('names after a patch', () => {
  it('applies unset then set; unsetting a missing name is a no-op', () => {
    expect(envNamesAfter(['A', 'B'], { set: [{ key: 'C', value: '', secret: false }], unset: ['A', 'Z'] })).toEqual(['B', 'C']);
  });

  it('refuses a result above the per-app limit, counting what the app already has', () => {
    const existing = Array.from({ length: MAX_ENV_VARS_PER_APP }, (_, i) => `V${i}`);
    expect(envNamesAfter(existing, { set: [{ key: 'V0', value: 'again', secret: false }], unset: [] })).toHaveLength(MAX_ENV_VARS_PER_APP);
    expect(() => envNamesAfter(existing, { set: [{ key: 'NEW', value: 'x', secret: false }], unset: [] })).toThrow(/at most 200/);
    expect(envNamesAfter(existing, { set: [{ key: 'NEW', value: 'x', secret: false }], unset: ['V1'] })).toContain('NEW');
  });
});
