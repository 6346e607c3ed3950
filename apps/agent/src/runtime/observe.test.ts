import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { containerLabels, healthCheckFromLabels, isOwned } from './labels';
import { fromInspect } from './observe';
import { allocation } from './testing';

const a = allocation('alloc_1');

const inspected = (over: { state?: Partial<Docker.ContainerInspectInfo['State']>; labels?: Record<string, string> } = {}) =>
  ({
    Id: 'f'.repeat(64),
    Config: { Labels: over.labels ?? containerLabels(a, 'node_1') },
    HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '20005' }] }, NanoCpus: 250_000_000 },
    NetworkSettings: { Networks: { 'karvon-usr_1-abc': { IPAddress: '172.30.0.2' } } },
    State: { Status: 'exited', ExitCode: 137, OOMKilled: true, StartedAt: '2026-01-01T00:00:00.5Z', FinishedAt: '0001-01-01T00:00:00Z', ...over.state },
  }) as unknown as Docker.ContainerInspectInfo;

describe('fromInspect', () => {
  it('reads what the planner needs from docker inspect', () => {
    expect(fromInspect(inspected())).toEqual({
      id: 'f'.repeat(64),
      allocationId: 'alloc_1',
      appId: 'app_1',
      tenantId: 'usr_1',
      releaseNumber: 1,
      specHash: containerLabels(a, 'node_1')['karvon.spec-hash'],
      state: 'exited',
      exitCode: 137,
      oomKilled: true,
      startedAt: Date.parse('2026-01-01T00:00:00.5Z'),
      hostPort: 20005,
      containerPort: 8080,
      ip: '172.30.0.2',
      healthCheck: { type: 'http', path: '/healthz' },
      nanoCpus: 250_000_000,
    });
  });

  it('leaves out what a label does not say or says badly', () => {
    const labels = { ...containerLabels(a, 'node_1'), 'karvon.health-check': '{"type":"exec","cmd":"rm -rf /"}' };
    expect(fromInspect(inspected({ labels }))).not.toHaveProperty('healthCheck');
    expect(healthCheckFromLabels({ 'karvon.health-check': 'not json' })).toBeUndefined();
  });
});

describe('isOwned', () => {
  it('is true only for managed objects of this node', () => {
    expect(isOwned({ 'karvon.managed': 'true', 'karvon.node': 'n1' }, 'n1')).toBe(true);
    expect(isOwned({ 'karvon.managed': 'true', 'karvon.node': 'n2' }, 'n1')).toBe(false);
    expect(isOwned({ 'karvon.node': 'n1' }, 'n1')).toBe(false);
    expect(isOwned(undefined, 'n1')).toBe(false);
  });
});
