import { describe, expect, it } from 'vitest';
import { gitConfig, gitEnv, sshCommand } from './git-hardening';

describe('gitConfig', () => {
  it('allows only https and ssh, runs no hooks, fetches no submodules, follows no redirects', () => {
    const c = gitConfig();
    expect(c.slice(0, 3)).toEqual(['protocol.allow=never', 'protocol.https.allow=always', 'protocol.ssh.allow=always']);
    expect(c).toEqual(expect.arrayContaining(['core.hooksPath=/dev/null', 'submodule.recurse=false', 'fetch.recurseSubmodules=false', 'http.followRedirects=false']));
    expect(c.find((x) => x.startsWith('core.sshCommand='))).toContain('BatchMode=yes');
    expect(c.some((x) => x.startsWith('http.sslCAInfo') || x.startsWith('http.curloptResolve'))).toBe(false);
  });

  it('adds the operator CA and pins a checked name to its address (not a literal)', () => {
    expect(gitConfig({ caFile: '/etc/karvon/ca.pem', pin: { host: 'git.example.com', port: 443, address: '140.82.112.3' } }).slice(-2)).toEqual([
      'http.sslCAInfo=/etc/karvon/ca.pem',
      'http.curloptResolve=git.example.com:443:140.82.112.3',
    ]);
    expect(gitConfig({ pin: { host: 'v6.example.com', port: 443, address: '2606:4700::1' } }).at(-1)).toBe('http.curloptResolve=v6.example.com:443:[2606:4700::1]');
    expect(gitConfig({ pin: { host: '140.82.112.3', port: 443, address: '140.82.112.3' } }).some((x) => x.startsWith('http.curloptResolve'))).toBe(false);
  });
});

describe('sshCommand', () => {
  it('with a deploy key: only that key, only the given known_hosts, no ssh config', () => {
    const c = gitConfig({ ssh: { identityFile: '/b/x-1/ssh/deploy_key', knownHostsFile: '/b/x-1/ssh/known_hosts' } }).find((x) => x.startsWith('core.sshCommand='));
    expect(c).toBe(
      'core.sshCommand=ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=20 -F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o UserKnownHostsFile=/b/x-1/ssh/known_hosts -o GlobalKnownHostsFile=/dev/null -i /b/x-1/ssh/deploy_key',
    );
    expect(sshCommand()).toBe('ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=20');
  });

  it('refuses a path a shell would read as more than a path', () => {
    for (const bad of ['relative/key', '/b/key; rm -rf /', '/b/$(id)', '/b/k ey']) {
      expect(() => sshCommand({ identityFile: bad, knownHostsFile: '/b/kh' })).toThrow(/unsafe path/);
    }
  });
});

describe('gitEnv', () => {
  it('is the whole environment: never prompts, reads no system or user config', () => {
    expect(gitEnv('/b/home')).toEqual({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/b/home', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_LFS_SKIP_SMUDGE: '1', LC_ALL: 'C' });
  });
});
