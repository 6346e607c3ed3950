import { describe, expect, it } from 'vitest';
import { createDockerClient } from './docker-client';

describe('createDockerClient', () => {
  it('maps DOCKER_HOST forms to dockerode options', () => {
    const modem = (host: string | undefined) => createDockerClient(host).modem as unknown as { socketPath?: string; host?: string; port?: number };
    expect(modem(undefined).socketPath).toBe('/var/run/docker.sock');
    expect(modem('unix:///run/user/1000/docker.sock').socketPath).toBe('/run/user/1000/docker.sock');
    const tcp = modem('tcp://127.0.0.1:2376');
    expect([tcp.host, tcp.port]).toEqual(['127.0.0.1', 2376]);
    expect(() => createDockerClient('ssh://host')).toThrow(/only unix/);
  });
});
