import { describe, expect, it } from 'vitest';
import { knownHostsLines, scrubSecrets, secretForms, tokenEnv } from './git-credentials';

describe('tokenEnv', () => {
  it('carries the token as a basic-auth extra header in GIT_CONFIG_* only', () => {
    const env = tokenEnv('x-access-token', 'ghp_secret123');
    expect(env).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('x-access-token:ghp_secret123').toString('base64')}`,
    });
  });
});

describe('secretForms and scrubSecrets', () => {
  it('removes the token, its URL-encoded and its basic-auth forms from a message', () => {
    const auth = { type: 'token' as const, username: 'bot', token: 'tok/en+secret' };
    const basic = Buffer.from('bot:tok/en+secret').toString('base64');
    const text = `fatal: header ${basic} url https://bot:${encodeURIComponent('tok/en+secret')}@h/r and raw tok/en+secret`;
    const out = scrubSecrets(text, secretForms(auth));
    expect(out).not.toContain('tok/en+secret');
    expect(out).not.toContain(encodeURIComponent('tok/en+secret'));
    expect(out).not.toContain(basic);
    expect(out).toContain('***');
  });

  it('covers the base64 lines of a private key, not its armour', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg\n-----END OPENSSH PRIVATE KEY-----\n';
    const forms = secretForms({ type: 'ssh-key', privateKey: key, knownHosts: '' });
    expect(forms).toEqual(['b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', 'AAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg']);
    expect(scrubSecrets(`oops ${key}`, forms)).not.toMatch(/b3BlbnNz|AAAAAQAAADM/);
    expect(secretForms(undefined)).toEqual([]);
  });
});

describe('knownHostsLines', () => {
  it('keeps well-formed host key lines once, drops comments, options and junk', () => {
    const text = [
      '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample',
      '# comment',
      '@cert-authority * ssh-ed25519 AAAAC3Nz',
      'github.com ecdsa-sha2-nistp256 AAAAE2VjZHNh=',
      'bad line with spaces and; stuff',
      '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample',
    ].join('\n');
    expect(knownHostsLines(text)).toBe('[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\ngithub.com ecdsa-sha2-nistp256 AAAAE2VjZHNh=\n');
    expect(knownHostsLines('')).toBe('');
  });

  it('stops at the size cap', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `h${i}.example ssh-ed25519 ${'A'.repeat(60)}`).join('\n');
    expect(knownHostsLines(lines, 500).length).toBeLessThanOrEqual(500);
  });
});
