import { describe, expect, it } from 'vitest';
import { parseCustomHostname } from './hostname';

const policy = { appsDomain: 'apps.karvon.io', platformHostnames: ['cp.karvon.io'] };
const parse = (s: unknown) => parseCustomHostname(s, policy);

describe('parseCustomHostname', () => {
  it.each([
    ['shop.example.com', 'shop.example.com'],
    ['Shop.Example.COM', 'shop.example.com'],
    ['example.com.', 'example.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['ＡＢＣ.com', 'abc.com'],
    ['пример.рф', 'xn--e1afmkfd.xn--p1ai'],
    ['例え.jp', 'xn--r8jz45g.jp'],
    ['a-b.co.uk', 'a-b.co.uk'],
    ['www.karvon.io', 'www.karvon.io'],
    ['my-app.example.net', 'my-app.example.net'],
  ])('accepts %j as %j', (input, out) => {
    expect(parse(input)).toEqual({ ok: true, hostname: out });
  });

  it.each([
    ['', /required/],
    [42, /required/],
    ['a`b.com', /only letters/],
    ['a.com`) || Host(`evil.com', /spaces/],
    ['a||b.com', /only letters/],
    ['ex ample.com', /spaces/],
    ['exa\tmple.com', /spaces/],
    ['*.example.com', /wildcards/],
    ['*', /wildcards/],
    ['1.2.3.4', /IP/],
    ['0x7f.1', /IP/],
    ['[::1]', /IP/],
    ['::1', /IP/],
    ['10.0.0.300', /IP/],
    ['localhost', /two labels/],
    ['app.localhost', /reserved/],
    ['foo.test', /reserved/],
    ['com', /two labels/],
    ['co.uk', /public suffix/],
    ['github.io', /public suffix/],
    ['apps.karvon.io', /platform/],
    ['shop.eu.apps.karvon.io', /platform/],
    ['cp.karvon.io', /platform/],
    ['exаmple.com', /mixes Cyrillic and Latin/],
    ['раураl.com', /mixes/],
    ['раура.com', /look like Latin/],
    ['ex%61mple.com', /only letters/],
    ['a\u200Bb.com', /only letters/],
    ['a_b.com', /only letters/],
    ['-a.com', /label/],
    ['a..b.com', /label/],
    ['ab--cd.com', /reserved "--"/],
    ['xn--zz.com', /valid/],
    [`${'a'.repeat(64)}.com`, /label/],
    [`${'a.'.repeat(130)}com`, /253/],
    ['example.com/path', /only letters/],
    ['user@example.com', /only letters/],
    ['example.com:443', /only letters/],
  ])('refuses %j', (input, why) => {
    const r = parse(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });
});
