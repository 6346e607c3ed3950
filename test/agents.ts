// Helpers for tests that speak to the hub: register nodes through the API, and raw WebSocket
// agents that send exactly the frames a test wants.
import { cpus, totalmem } from 'node:os';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type NodeFacts } from '@karvon/protocol';
import type { ApiClient } from './api-client';

export function sampleFacts(overrides: Partial<NodeFacts> = {}): NodeFacts {
  return {
    hostname: 'test-node',
    cpu: { cores: cpus().length, model: 'test cpu' },
    memoryMb: Math.floor(totalmem() / 1024 / 1024),
    disk: { totalMb: 100_000, freeMb: 50_000, path: '/var/lib/docker' },
    os: { platform: 'linux', distro: 'Debian', release: '12', kernel: '6.1', arch: 'x64' },
    dockerVersion: '20.10.24',
    ...overrides,
  };
}

export async function ensureRegion(admin: ApiClient, id: string): Promise<void> {
  const res = await admin.post('/api/v1/admin/regions', { id, name: id });
  if (res.status !== 201 && res.status !== 409) throw new Error(`region ${id}: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function registrationToken(admin: ApiClient, region: string, extra: Record<string, unknown> = {}): Promise<string> {
  await ensureRegion(admin, region);
  const res = await admin.post<{ token: string }>('/api/v1/admin/node-tokens', { region, ...extra });
  if (res.status !== 201) throw new Error(`node token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** Registers a node through the agent API directly; returns its id and credential. */
export async function registerNode(admin: ApiClient, region: string, name = `n${Math.random().toString(36).slice(2, 8)}`) {
  const token = await registrationToken(admin, region);
  const res = await admin.post<{ nodeId: string; credential: string }>('/api/v1/agent/register', { token, hostname: name, facts: sampleFacts({ hostname: name }) }, { token: '' });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function agentToken(api: ApiClient, credential: string): Promise<string> {
  const res = await api.post<{ token: string }>('/api/v1/agent/token', undefined, { token: credential });
  if (res.status !== 200) throw new Error(`agent token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

export interface RawAgent {
  ws: WebSocket;
  frames: Array<{ type: string; payload: Record<string, unknown> }>;
  closed: Promise<{ code: number; reason: string }>;
  sendRaw(data: string | Buffer): void;
  send(type: string, payload: unknown): void;
  hello(overrides?: Record<string, unknown>): void;
  nextFrame(type: string, timeoutMs?: number): Promise<{ type: string; payload: Record<string, unknown> }>;
}

/** Opens the agent socket with the given bearer token (or none); resolves once open. */
export function connectRawAgent(baseUrl: string, token: string | undefined): Promise<RawAgent> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/agent/connect`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const frames: RawAgent['frames'] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => {
    frames.push(JSON.parse((d as Buffer).toString("utf8")) as RawAgent['frames'][number]);
    for (const w of waiters) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const agent: RawAgent = {
    ws,
    frames,
    closed,
    sendRaw: (data) => ws.send(data),
    send: (type, payload) => ws.send(JSON.stringify({ type, payload })),
    hello: (overrides = {}) =>
      ws.send(JSON.stringify({ type: 'hello', payload: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'test', facts: sampleFacts(), appliedGeneration: 0, ...overrides } })),
    nextFrame(type, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < frames.length; seen++) {
            if (frames[seen]!.type === type) {
              const f = frames[seen]!;
              frames.splice(seen, 1);
              clearTimeout(timer);
              waiters.delete(check);
              resolve(f);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(agent));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

export function sampleHeartbeat(overrides: Record<string, unknown> = {}) {
  return {
    sentAt: new Date().toISOString(),
    appliedGeneration: 0,
    usage: {
      cpuPercent: 12.5,
      load1: 0.5,
      load5: 0.4,
      load15: 0.3,
      memoryUsedMb: 1000,
      memoryTotalMb: 8000,
      diskUsedMb: 10_000,
      diskTotalMb: 100_000,
      netRxBytes: 1,
      netTxBytes: 2,
      containerCount: 0,
    },
    allocations: [],
    ...overrides,
  };
}
