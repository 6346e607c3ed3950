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

  it('refuses unknown commands, unknown flags and register-only flags on run', () => {
    expect(() => loadAgentCommand(['launch'], {})).toThrow(UsageError);
    expect(() => loadAgentCommand(['run', '--bogus'], {})).toThrow(UsageError);
    expect(() => loadAgentCommand(['run', '--token', 'x'], {})).toThrow(/only for register/);
  });
});
