import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Route, Task } from '@karvon/protocol';
import { createNodeRouting, type NodeRouting } from './node-routing';
import { dynamicConfigErrors, httpRequest } from './testing';

const logger = pino({ level: 'silent' });
const route = (hostname: string): Route => ({ hostname, appId: 'app_a', tls: false, upstreams: [{ address: '127.0.0.1:20000', local: true }] });
const state = (routes: Route[]) => ({ routes, certificates: [], allocations: [] });

describe('node routing', () => {
  let stateDir: string;
  let routing: NodeRouting;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-routing-'));
    routing = createNodeRouting({ stateDir, proxyDir: path.join(stateDir, 'proxy'), challengePort: 0, logger });
    await routing.start();
  });
  afterEach(async () => {
    await routing.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  const written = async () => parseYaml(await readFile(routing.configFile, 'utf8')) as { http: { routers: Record<string, { rule: string }>; services: Record<string, unknown> } };

  it('writes the newest of states applied in a burst, pointing challenges at its own responder', async () => {
    await Promise.all([routing.apply(state([route('one.example.com')])), routing.apply(state([route('two.example.com')]))]);
    const config = await written();
    expect(dynamicConfigErrors(config)).toEqual([]);
    expect(Object.values(config.http.routers).map((r) => r.rule)).toContain('Host(`two.example.com`)');
    expect(JSON.stringify(config)).not.toContain('one.example.com');
    expect(config.http.services['karvon-agent']).toEqual({ loadBalancer: { servers: [{ url: `http://127.0.0.1:${routing.challengePort}` }] } });
  });

  it('answers a challenge installed through its task handler, also after a restart', async () => {
    const task = {
      id: 't1', kind: 'issue-challenge', idempotencyKey: 'k', deadline: '2030-01-01T00:00:00Z', attempt: 1, sessionGeneration: 1,
      payload: { hostname: 'one.example.com', token: 'tok1', keyAuthorization: 'tok1.abc', action: 'install' },
    } as Task;
    await routing.issueChallenge(task, { progress: () => undefined, signal: new AbortController().signal });
    await routing.stop();
    routing = createNodeRouting({ stateDir, proxyDir: path.join(stateDir, 'proxy'), challengePort: 0, logger });
    await routing.start();
    const res = await httpRequest(routing.challengePort!, '/.well-known/acme-challenge/tok1', 'one.example.com');
    expect([res.status, res.body]).toEqual([200, 'tok1.abc']);
  });

  it('never throws from apply; a state it cannot write leaves the previous file', async () => {
    await routing.apply(state([route('one.example.com')]));
    const previous = await readFile(routing.configFile, 'utf8');
    // Not an array: rendering throws inside apply.
    await expect(routing.apply({ routes: null as unknown as Route[], certificates: [], allocations: [] })).resolves.toBeUndefined();
    expect(await readFile(routing.configFile, 'utf8')).toBe(previous);
  });

  it('routes a healthy local replica of a routed app at once, and keeps it across desired states until it is no longer routable', async () => {
    const servers = async () => {
      const services = (await written()).http.services as Record<string, { loadBalancer?: { servers: Array<{ url: string }> } }>;
      return Object.entries(services)
        .filter(([name]) => name !== 'karvon-agent')
        .flatMap(([, s]) => s.loadBalancer?.servers.map((x) => x.url) ?? []);
    };
    const allocations = [{ id: 'alloc_new', appId: 'app_a', desiredStatus: 'running' as const, healthCheck: { type: 'http' as const, path: '/healthz' } }];
    // Before any desired state, nothing is written; the state then arrives with the replica known.
    await routing.setLocal([{ allocationId: 'alloc_new', upstream: '127.0.0.1:20001' }]);
    await routing.apply({ routes: [route('one.example.com')], certificates: [], allocations });
    expect(await servers()).toEqual(['http://127.0.0.1:20000', 'http://127.0.0.1:20001']);
    const config = await written();
    expect(dynamicConfigErrors(config)).toEqual([]);
    // The control plane's next state, still without it (the report is on its way): kept.
    await routing.apply({ routes: [{ ...route('one.example.com'), upstreams: [] }], certificates: [], allocations });
    expect(await servers()).toEqual(['http://127.0.0.1:20001']);
    // Draining or unhealthy (no upstream reported): the control plane's routes alone again.
    await routing.setLocal([{ allocationId: 'alloc_new' }]);
    // (an app without upstreams is served by the agent's 503 responder)
    expect(await servers()).toEqual([`http://127.0.0.1:${routing.challengePort}`]);
  });

  it('keeps running without a responder when its port is taken', async () => {
    const taken = routing.challengePort!;
    const second = createNodeRouting({ stateDir, proxyDir: path.join(stateDir, 'proxy2'), challengePort: taken, logger });
    await second.start();
    expect(second.challengePort).toBeUndefined();
    await second.apply(state([route('one.example.com')]));
    await second.stop();
  });
});
