import { describe, expect, it } from 'vitest';
import { bearerToken } from './authenticate';

describe('bearerToken', () => {
  it('reads the token of "Bearer <token>" exactly as the former /^Bearer ([^\\s]{1,4096})$/ did', () => {
    const old = (h: string) => /^Bearer ([^\s]{1,4096})$/.exec(h)?.[1];
    const cases = [
      'Bearer abc',
      'Bearer a.b-c_d~e+f/g=',
      'Bearer ',
      'Bearer  abc',
      'Bearer abc ',
      'Bearer ab c',
      'Bearer ab\tc',
      'Bearer ab\u00a0c',
      'Bearer ab\u2028c',
      'bearer abc',
      'Basic abc',
      'Bearerabc',
      `Bearer ${'x'.repeat(4_096)}`,
      `Bearer ${'x'.repeat(4_097)}`,
      'Bearer é',
    ];
    for (const h of cases) expect(bearerToken(h), JSON.stringify(h)).toBe(old(h));
  });
});
