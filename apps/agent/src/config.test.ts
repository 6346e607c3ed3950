import { describe, expect, it } from 'vitest';
import { loadAgentCommand, UsageError } from './config';

describe('loadAgentCommand', () => {
  it('parses register with its flags', () => {
    const c = loadAgentCommand(['register', '--control-plane', 'https://cp.example/', '--token', 'kvj_x', '--state-dir', '/tmp/s', '--name', 'web-1'], {});
    expect(c).toMatchObject({ command: 'register', controlPlane: 'https://cp.example', token: 'kvj_x', stateDir: '/tmp/s', name: 'web-1' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses run, taking the state dir from the environment when no flag is given', () => {
    expect(loadAgentCommand(['run'], { KARVON_STATE_DIR: '/srv/agent', DOCKER_HOST: 'unix:///x.sock' })).toMatchObject({
      command: 'run',
      stateDir: '/srv/agent',
      dockerHost: 'unix:///x.sock',
    });
  });

  it('reports every problem at once with the usage', () => {
    let err: unknown;
    try {
      loadAgentCommand(['register', '--control-plane', 'ftp://x', '--name', 'bad name!'], { KARVON_LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    for (const part of ['--control-plane', '--token', '--name', 'KARVON_LOG_LEVEL', 'usage:']) expect(msg).toContain(part);
  });

  it('reads the build settings: allowed git hosts, build dir (under the state dir by default), git CA file', () => {
    expect(loadAgentCommand(['run'], { KARVON_STATE_DIR: '/srv/agent', KARVON_GIT_ALLOWED_HOSTS: ' git.lan:8443, 10.0.0.5 ,' })).toMatchObject({
      gitAllowedHosts: ['git.lan:8443', '10.0.0.5'],
      buildDir: '/srv/agent/builds',
      gitCaFile: undefined,
    });
    expect(loadAgentCommand(['run'], { KARVON_BUILD_DIR: '/var/tmp/b', KARVON_GIT_CA_FILE: '/etc/ca.pem' })).toMatchObject({ buildDir: '/var/tmp/b', gitCaFile: '/etc/ca.pem' });
  });

  it('reads the routing settings: proxy dir (under the state dir by default) and challenge port (8089)', () => {
    expect(loadAgentCommand(['run'], { KARVON_STATE_DIR: '/srv/agent' })).toMatchObject({ proxyDir: '/srv/agent/proxy', challengePort: 8089 });
    expect(loadAgentCommand(['run'], { KARVON_PROXY_DIR: '/etc/traefik/dynamic', KARVON_CHALLENGE_PORT: '18089' })).toMatchObject({
      proxyDir: '/etc/traefik/dynamic',
      challengePort: 18089,
    });
    expect(() => loadAgentCommand(['run'], { KARVON_CHALLENGE_PORT: '80000' })).toThrow(/KARVON_CHALLENGE_PORT/);
  });

  it('refuses unknown commands, unknown flags and register-only flags on run', () => {
    expect(() => loadAgentCommand(['launch'], {})).toThrow(UsageError);
    expect(() => loadAgentCommand(['run', '--bogus'], {})).toThrow(UsageError);
    expect(() => loadAgentCommand(['run', '--token', 'x'], {})).toThrow(/only for register/);
  });
});
