// Valid frames with every field set, for tests here and in the hub and agent
// (`import { sampleFrames } from '@karvon/protocol/testing'`). Plain data; clone before mutating.
import { frame, type Frame, type FrameType } from '../frame';
import type { NodeFacts } from '../node-facts';
import type { NodeUsage } from '../frames/heartbeat';
import type { DesiredAllocation } from '../frames/desired-state';
import type { Task, TaskKind } from '../frames/task';

export const sampleFacts: NodeFacts = {
  hostname: 'tash-1',
  cpu: { cores: 8, model: 'AMD EPYC 7302P' },
  memoryMb: 32_768,
  disk: { totalMb: 960_000, freeMb: 700_000, path: '/var/lib/docker' },
  os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0-18-amd64', arch: 'x64' },
  dockerVersion: '24.0.7',
};

export const sampleUsage: NodeUsage = {
  cpuPercent: 12.5,
  load1: 0.42,
  load5: 0.3,
  load15: 0.25,
  memoryUsedMb: 4096,
  memoryTotalMb: 32_768,
  diskUsedMb: 260_000,
  diskTotalMb: 960_000,
  netRxBytes: 123_456_789,
  netTxBytes: 98_765_432,
  containerCount: 3,
};

export const sampleAllocation: DesiredAllocation = {
  id: 'alloc_01',
  appId: 'app_01',
  tenantId: 'usr_01',
  releaseId: 'rel_01',
  releaseNumber: 7,
  image: '127.0.0.1:5000/app_01@sha256:' + 'a'.repeat(64),
  env: { PORT: '3000', DATABASE_URL: 'postgres://db/app', MULTILINE: 'line 1\nline 2' },
  command: ['node', 'server.js', '--', '--weird arg'],
  port: 3000,
  limits: { cpuMillicores: 500, memoryMb: 512, pids: 256 },
  healthCheck: { type: 'http', path: '/healthz', intervalMs: 5000, timeoutMs: 2000 },
  desiredStatus: 'running',
};

const taskCommon = {
  id: 'task_01',
  idempotencyKey: 'deploy_01:build',
  deadline: '2030-01-01T00:10:00.000Z',
  attempt: 1,
  sessionGeneration: 3,
};

export const sampleTasks: { [K in TaskKind]: Task<K> } = {
  build: {
    ...taskCommon,
    kind: 'build',
    payload: {
      buildId: 'bld_01',
      appId: 'app_01',
      tenantId: 'usr_01',
      source: { url: 'https://github.com/acme/shop.git', commitSha: 'f'.repeat(40), branch: 'main' },
      strategy: 'buildpack',
      runtime: { kind: 'node', version: '20', baseImage: 'node:20-bookworm-slim' },
      image: '127.0.0.1:5000/app_01:rel-7',
      registry: '127.0.0.1:5000',
      env: { NODE_ENV: 'production' },
      limits: { cpuMillicores: 2000, memoryMb: 2048, timeoutMs: 900_000 },
    },
  },
  'issue-challenge': {
    ...taskCommon,
    kind: 'issue-challenge',
    payload: { hostname: 'shop.example.com', token: 'tok-EN_123', keyAuthorization: 'tok-EN_123.thumb-print_9', action: 'install' },
  },
  'stream-logs': {
    ...taskCommon,
    kind: 'stream-logs',
    payload: { allocationId: 'alloc_01', tail: 100, follow: true, since: '2030-01-01T00:00:00.000Z' },
  },
  gc: { ...taskCommon, kind: 'gc', payload: { targets: ['images', 'build-cache'], keepReleasesPerApp: 3 } },
  noop: { ...taskCommon, kind: 'noop', payload: { echo: 'ping', durationMs: 10 } },
};

export const sampleFrames: { [K in FrameType]: Frame<K> } = {
  hello: frame(
    'hello',
    { protocolVersion: '1.0', agentVersion: '0.1.0', facts: sampleFacts, appliedGeneration: 12 },
    'f-1',
  ),
  welcome: frame('welcome', {
    nodeId: 'node_01',
    sessionGeneration: 3,
    heartbeatIntervalMs: 30_000,
    serverProtocolVersion: '1.0',
  }),
  heartbeat: frame('heartbeat', {
    sentAt: '2030-01-01T00:00:00.000Z',
    appliedGeneration: 12,
    usage: sampleUsage,
    allocations: [
      {
        allocationId: 'alloc_01',
        state: 'healthy',
        containerId: 'c'.repeat(64),
        upstream: '10.0.0.5:32768',
        restarts: 0,
        cpuPercent: 150.5,
        memoryMb: 120.25,
        startedAt: '2030-01-01T00:00:00Z',
        message: 'ok',
      },
      { allocationId: 'alloc_02', state: 'starting', restarts: 2 },
    ],
  }),
  'desired-state': frame('desired-state', {
    generation: 13,
    sessionGeneration: 3,
    allocations: [
      sampleAllocation,
      {
        id: 'alloc_02',
        appId: 'app_02',
        tenantId: 'usr_01',
        releaseId: 'rel_02',
        releaseNumber: 1,
        image: 'node:20-bookworm-slim',
        env: {},
        port: 8080,
        limits: { cpuMillicores: 250, memoryMb: 128 },
        healthCheck: { type: 'tcp' },
        desiredStatus: 'stopped',
      },
    ],
    routes: [
      {
        hostname: 'shop.example.com',
        appId: 'app_01',
        tls: true,
        upstreams: [
          { address: '10.0.0.5:32768', local: true },
          { address: '[fd00::6]:32770', local: false },
        ],
      },
      { hostname: 'idle.apps.localhost', appId: 'app_02', tls: false, upstreams: [] },
    ],
    certificates: [
      {
        id: 'crt_01',
        hostnames: ['shop.example.com', 'www.shop.example.com'],
        certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
        privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
        notAfter: '2030-03-01T00:00:00.000Z',
      },
    ],
  }),
  'desired-state-ack': frame('desired-state-ack', { generation: 13 }),
  task: frame('task', sampleTasks.build),
  'task-ack': frame('task-ack', { taskId: 'task_01', duplicate: false }),
  'task-progress': frame('task-progress', { taskId: 'task_01', seq: 0, phase: 'clone', lines: ['Cloning…', ''] }),
  'task-result': frame('task-result', {
    taskId: 'task_01',
    status: 'succeeded',
    result: { image: '127.0.0.1:5000/app_01@sha256:' + 'a'.repeat(64), sizeBytes: 123_456, layers: [1, 2.5, null, true, 'x'] },
  }),
  'log-chunk': frame('log-chunk', {
    allocationId: 'alloc_01',
    taskId: 'task_02',
    stream: 'stderr',
    seq: 4,
    lines: [{ at: '2030-01-01T00:00:01.000Z', text: 'listening on :3000' }],
  }),
  'log-credit': frame('log-credit', { taskId: 'task_02', upToSeq: 4 }),
  'task-cancel': frame('task-cancel', { taskId: 'task_02' }),
  error: frame('error', { code: 'INVALID_FRAME', message: 'heartbeat: usage.cpuPercent: too big', recoverable: true, refType: 'frame', ref: 'f-1' }),
  'token-refresh-request': frame('token-refresh-request', {}),
  'token-refresh': frame('token-refresh', { token: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJub2RlXzAxIn0.c2lnbmF0dXJl', expiresAt: '2030-01-01T00:15:00.000Z' }),
};

/** A deep copy of a sample, to mutate in a test. */
export function cloneFrame<F extends Frame>(f: F): F {
  return structuredClone(f);
}
