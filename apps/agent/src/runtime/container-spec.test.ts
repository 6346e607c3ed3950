import { describe, expect, it } from 'vitest';
import { buildContainerSpec, buildNetworkSpec, containerEnv, planNanoCpus, startupNanoCpus } from './container-spec';
import { bridgeName, networkName, specHash } from './labels';
import { allocation } from './testing';

const a = allocation('alloc_1', { command: ['node', 'server.js'], limits: { cpuMillicores: 250, memoryMb: 128, pids: 100 } });
const placement = { nodeId: 'node_1', hostIp: '10.0.0.5', hostPort: 20007 };

describe('buildContainerSpec', () => {
  it('gives every tenant container the hardened host config, exactly', () => {
    const spec = buildContainerSpec(a, placement);
    const net = networkName('node_1', 'usr_1');
    expect(spec.HostConfig).toEqual({
      NetworkMode: net,
      PortBindings: { '8080/tcp': [{ HostIp: '10.0.0.5', HostPort: '20007' }] },
      PublishAllPorts: false,
      Memory: 128 * 1024 * 1024,
      MemorySwap: 128 * 1024 * 1024,
      // the startup boost (one core) until the first healthy answer; plan.ts then sets the plan's
      NanoCpus: 1_000_000_000,
      PidsLimit: 100,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      IpcMode: 'private',
      Binds: [],
      Mounts: [],
      Devices: [],
      ExtraHosts: [],
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Init: true,
    });
    expect(spec.NetworkingConfig).toEqual({ EndpointsConfig: { [net]: {} } });
  });

  it('runs the allocation as given, labelled, keeping the image user', () => {
    const spec = buildContainerSpec(a, placement);
    expect(spec).toMatchObject({
      name: 'karvon-alloc_1',
      Image: 'registry.local/app_1:1',
      Cmd: ['node', 'server.js'],
      Env: ['GREETING=hi', 'PORT=8080'],
      ExposedPorts: { '8080/tcp': {} },
      Tty: false,
      OpenStdin: false,
      StopTimeout: 10,
      Labels: {
        'karvon.managed': 'true',
        'karvon.node': 'node_1',
        'karvon.allocation': 'alloc_1',
        'karvon.app': 'app_1',
        'karvon.tenant': 'usr_1',
        'karvon.release': 'rel_1',
        'karvon.release-number': '1',
        'karvon.spec-hash': specHash(a),
        'karvon.port': '8080',
        'karvon.health-check': '{"type":"http","path":"/healthz"}',
      },
    });
    expect(spec).not.toHaveProperty('User');
    expect(spec).not.toHaveProperty('Entrypoint');
  });

  it("keeps the image's own command when the allocation has none, and the default pids limit", () => {
    const spec = buildContainerSpec(allocation('alloc_2'), placement);
    expect(spec).not.toHaveProperty('Cmd');
    expect(spec.HostConfig?.PidsLimit).toBe(512);
  });

  it('raises limits below what Docker accepts to its minimum', () => {
    const small = allocation('alloc_3', { limits: { cpuMillicores: 1, memoryMb: 4 } });
    expect([planNanoCpus(small), buildContainerSpec(small, placement).HostConfig?.Memory]).toEqual([10_000_000, 6 * 1024 * 1024]);
  });

  it('starts a container with at least one core, never less than its plan', () => {
    expect([planNanoCpus(a), startupNanoCpus(a)]).toEqual([250_000_000, 1_000_000_000]);
    const big = allocation('alloc_4', { limits: { cpuMillicores: 2500, memoryMb: 128 } });
    expect([planNanoCpus(big), startupNanoCpus(big), buildContainerSpec(big, placement).HostConfig?.NanoCpus]).toEqual([2_500_000_000, 2_500_000_000, 2_500_000_000]);
  });

  it('sets PORT to the routed port even when the app env names another', () => {
    expect(containerEnv(allocation('x', { env: { PORT: '1', B: '2', A: 'line1\nline2' } }))).toEqual(['A=line1\nline2', 'B=2', 'PORT=8080']);
  });

  it('names containers after their allocation in Docker-safe characters', () => {
    expect(buildContainerSpec(allocation('alloc:9.x'), placement).name).toBe('karvon-alloc_9.x');
  });
});

describe('buildNetworkSpec', () => {
  it('makes a labelled per-tenant bridge with a kv- interface', () => {
    expect(buildNetworkSpec('node_1', 'usr_1')).toEqual({
      Name: networkName('node_1', 'usr_1'),
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: false,
      Attachable: false,
      EnableIPv6: false,
      Labels: { 'karvon.managed': 'true', 'karvon.node': 'node_1', 'karvon.tenant': 'usr_1' },
      Options: {
        'com.docker.network.bridge.name': bridgeName('node_1', 'usr_1'),
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      },
    });
    expect(bridgeName('node_1', 'usr_1')).toMatch(/^kv-[0-9a-f]{12}$/);
  });

  it('gives each tenant, and each node, its own network', () => {
    const names = new Set([networkName('n1', 't1'), networkName('n1', 't2'), networkName('n2', 't1')]);
    expect(names.size).toBe(3);
    expect(networkName('n1', 'tenant:with:colons')).toMatch(/^karvon-tenant_with_colons-[0-9a-f]{10}$/);
  });
});
