import { describe, expect, it } from 'vitest';
import { decideGitHost, isAllowedHost, isNonPublicAddress } from './host-policy';

describe('isNonPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fd00::1', 'fc12::3', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1', '2002:a00:1::1', 'not-an-ip',
  ])('%s is not public', (a) => expect(isNonPublicAddress(a)).toBe(true));

  it.each(['140.82.112.3', '8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:140.82.112.3'])('%s is public', (a) => expect(isNonPublicAddress(a)).toBe(false));
});

describe('isAllowedHost', () => {
  const allowed = ['git.lan', '127.0.0.1:8443', '[fd00::5]:443', 'GITEA.corp.'];
  it.each([
    ['git.lan', 22, true],
    ['git.lan', 443, true],
    ['GIT.LAN', 443, true],
    ['127.0.0.1', 8443, true],
    ['127.0.0.1', 8444, false],
    ['fd00::5', 443, true],
    ['fd00::5', 22, false],
    ['gitea.corp', 443, true],
    ['evil.git.lan', 443, false],
    ['git.lan.evil.com', 443, false],
  ] as const)('%s:%i → %s', (host, port, expected) => expect(isAllowedHost(host, port, allowed)).toBe(expected));
});

describe('decideGitHost', () => {
  it('accepts hosts whose every address is public', () => {
    expect(decideGitHost('github.com', 443, ['140.82.112.3'], [])).toEqual({ ok: true, listed: false });
  });
  it('refuses a host with any private address, naming the setting that would allow it', () => {
    const d = decideGitHost('rebind.example', 443, ['140.82.112.3', '10.0.0.7'], []);
    expect(d).toEqual({ ok: false, reason: expect.stringContaining('KARVON_GIT_ALLOWED_HOSTS=rebind.example:443') as unknown });
  });
  it('accepts a private host the operator listed, and refuses one that does not resolve', () => {
    expect(decideGitHost('127.0.0.1', 8443, ['127.0.0.1'], ['127.0.0.1:8443'])).toEqual({ ok: true, listed: true });
    expect(decideGitHost('nowhere.invalid', 443, [], [])).toMatchObject({ ok: false, reason: expect.stringContaining('does not resolve') as unknown });
  });
});
