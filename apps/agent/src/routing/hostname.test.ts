import { describe, expect, it } from 'vitest';
import { checkHostname, hostRule } from './hostname';

describe('checkHostname', () => {
  it.each([
    'example.com',
    'my-app.tashkent-1.apps.example.com',
    'a.b',
    'xn--bcher-kva.example', // bücher.example
    'xn--e1afmkfd.xn--p1ai', // пример.рф: one script throughout
    '1password.com',
    `${'a'.repeat(63)}.example.com`,
  ])('accepts %s', (name) => {
    expect(checkHostname(name)).toBeNull();
    expect(hostRule(name)).toBe(`Host(\`${name}\`)`);
  });

  it.each([
    ['a.com`) || PathPrefix(`/', 'invalid-characters'],
    ['a.com`', 'invalid-characters'],
    ['a.com || b.com', 'invalid-characters'],
    ['a.com||b.com', 'invalid-characters'],
    ['my app.com', 'invalid-characters'],
    ['a.com\n', 'invalid-characters'],
    ['a_b.com', 'invalid-characters'],
    ['a.com:443', 'invalid-characters'],
    ['*.example.com', 'wildcard'],
    ['*', 'wildcard'],
    ['Example.com', 'uppercase'],
    ['exаmple.com', 'non-ascii'], // Cyrillic а
    ['ｅxample.com', 'non-ascii'], // fullwidth e
    ['xn--exmple-4nf.com', 'mixed-script'], // the same look-alike, as an A-label
    ['xn--zz.example', 'invalid-idn'],
    ['xn--bcher-KVA.example', 'uppercase'],
    ['ab--cd.example', 'invalid-idn'],
    ['localhost', 'single-label'],
    ['app.localhost', 'reserved'],
    ['intranet', 'single-label'],
    ['127.0.0.1', 'ip-literal'],
    ['10.1.2.3', 'ip-literal'],
    ['::1', 'ip-literal'],
    ['[::1]', 'ip-literal'],
    ['0x7f.1', 'numeric-tld'],
    ['127.1', 'numeric-tld'],
    ['example.com.', 'trailing-dot'],
    ['-a.example.com', 'bad-label'],
    ['a..example.com', 'bad-label'],
    [`${'a'.repeat(64)}.example.com`, 'bad-label'],
    [`${'a.'.repeat(127)}ab`, 'too-long'],
    ['', 'empty'],
    [42, 'not-a-string'],
    [undefined, 'not-a-string'],
  ])('refuses %j (%s)', (name, reason) => {
    expect(checkHostname(name)).toBe(reason);
  });

  it('never builds a rule from a refused name', () => {
    expect(() => hostRule('a.com`) || Host(`b.com')).toThrow(/refusing/);
  });
});
