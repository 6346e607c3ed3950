// Routing against a real Docker engine: one app with a replica on each of two "nodes" (two
// runtimes, one engine), the config each node's agent renders for it, checked against the official
// Traefik schema and by calling every upstream it names; the HTTP-01 responder over real HTTP;
// hostnames that must never reach a rule.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Certificate, DesiredAllocation, Route, Task } from '@karvon/protocol';
import { createNodeRouting, type NodeRouting } from '../src/routing/node-routing';
import { dynamicConfigErrors, httpRequest, selfSignedCertificate } from '../src/routing/testing';
import type { TraefikDynamicConfig } from '../src/routing/traefik-config';
import { createRuntime, type Runtime } from '../src/runtime/runtime';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { buildFixtureImages, fixtureAllocation, removeNodeObjects, testPortRange } from './runtime-fixtures';

const logger = pino({ level: process.env.KARVON_TEST_LOG_LEVEL ?? 'silent' });
const run = randomUUID().slice(0, 8);
const nodes = [`node-route-a-${run}`, `node-route-b-${run}`] as const;
const allocations: DesiredAllocation[] = [fixtureAllocation(`alloc-route-a-${run}`, 'node-hello'), fixtureAllocation(`alloc-route-b-${run}`, 'node-hello')];
const HOST = 'shop.example.com';
const BAD_HOSTNAMES = ['evil.com`) || PathPrefix(`/', 'a b.example.com', 'a.com||b.com', '*.example.com', 'exаmple.com', 'xn--exmple-4nf.com', 'localhost', '127.0.0.1', '[::1]'];

await describeDocker('routing: Traefik file provider and HTTP-01 answers', () => {
  let docker: Docker;
  let dir: string;
  const runtimes: Runtime[] = [];
  const routings: NodeRouting[] = [];
  let upstreams: string[] = [];
  const pair = selfSignedCertificate([HOST]);
  const certificate: Certificate = { id: 'cert_shop', hostnames: [HOST], ...pair, notAfter: '2030-01-01T00:00:00Z' };

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildFixtureImages(docker);
    dir = await mkdtemp(path.join(tmpdir(), 'karvon-routing-int-'));
    for (const [i, nodeId] of nodes.entries()) {
      const runtime = createRuntime({
        docker, nodeId, stateDir: path.join(dir, nodeId), advertiseAddr: '127.0.0.1', portRange: testPortRange(),
        healthDeadlineMs: 20_000, drainMs: 300, logger, busyIntervalMs: 200, idleIntervalMs: 1_000,
      });
      await runtime.load();
      runtime.setDesired([allocations[i]!]);
      runtime.start();
      runtimes.push(runtime);
      const routing = createNodeRouting({ stateDir: path.join(dir, nodeId), proxyDir: path.join(dir, nodeId, 'proxy'), challengePort: 0, logger });
      await routing.start();
      routings.push(routing);
    }
    // The upstreams the control plane learns from heartbeats: reported only once healthy.
    upstreams = await eventually(() => {
      const found = runtimes.map((r) => r.statuses()[0]?.upstream);
      if (found.some((u) => u === undefined)) throw new Error(`not healthy yet: ${JSON.stringify(runtimes.map((r) => r.statuses()))}`);
      return found as string[];
    }, 60_000, 200);
  });

  afterAll(async () => {
    for (const r of routings) await r.stop();
    for (const r of runtimes) await r.stop();
    if (docker) for (const nodeId of nodes) await removeNodeObjects(docker, nodeId);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The desired state the control plane would send node i: its own replica is the local one. */
  const desiredFor = (i: number) => ({
    allocations: [allocations[i]!],
    certificates: [certificate],
    routes: [
      { hostname: HOST, appId: 'app_web', tls: true, upstreams: upstreams.map((address, j) => ({ address, local: i === j })) },
      ...BAD_HOSTNAMES.map((hostname): Route => ({ hostname, appId: 'app_evil', tls: true, upstreams: [{ address: '127.0.0.1:9', local: true }] })),
    ],
  });
  const readConfig = async (i: number) => parseYaml(await readFile(routings[i]!.configFile, 'utf8')) as TraefikDynamicConfig;

  it('renders, for each node, a schema-valid config: local replica first, the other node’s as failover', async () => {
    for (const i of [0, 1]) {
      await routings[i]!.apply(desiredFor(i));
      const config = await readConfig(i);
      expect(dynamicConfigErrors(config)).toEqual([]);
      const services = config.http.services;
      const failover = Object.values(services).find((s): s is Extract<typeof s, { failover: unknown }> => 'failover' in s);
      expect(failover).toBeDefined();
      const main = services[failover!.failover.service];
      const fallback = services[failover!.failover.fallback];
      expect(main).toEqual({ loadBalancer: { servers: [{ url: `http://${upstreams[i]}` }], healthCheck: { path: '/healthz', interval: '5s', timeout: '3s' } } });
      expect(fallback).toEqual({ loadBalancer: { servers: [{ url: `http://${upstreams[1 - i]}` }] } });
      const [cert] = config.tls?.certificates ?? [];
      expect(await readFile(cert!.certFile, 'utf8')).toBe(pair.certificatePem);
      expect(await readFile(cert!.keyFile, 'utf8')).toBe(pair.privateKeyPem);
    }
  });

  it('every upstream the config names answers when called', async () => {
    const config = await readConfig(0);
    const urls = Object.entries(config.http.services).flatMap(([name, s]) => ('loadBalancer' in s ? s.loadBalancer.servers.map((srv) => ({ name, url: srv.url })) : []));
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const { name, url } of urls) {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (name === 'karvon-agent') {
        expect(res.status).toBe(503); // the agent itself: challenges, and 503 for routes with no replica
      } else {
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ greeting: 'hi' });
      }
    }
  });

  it('refuses the bad hostnames: nothing is rendered for them', async () => {
    const text = await readFile(routings[0]!.configFile, 'utf8');
    const config = await readConfig(0);
    expect(Object.values(config.http.routers).map((r) => r.rule).sort()).toEqual(['Host(`shop.example.com`)', 'Host(`shop.example.com`)', 'PathPrefix(`/.well-known/acme-challenge/`)']);
    // No rule quotes any of them (the file is JSON text, so compare with each name as JSON writes it).
    for (const bad of BAD_HOSTNAMES) expect(text).not.toContain(`\`${JSON.stringify(bad).slice(1, -1)}`);
    expect(text).not.toContain('127.0.0.1:9"');
    expect(text).not.toContain('app_evil');
  });

  it('answers an installed HTTP-01 token through the upstream the challenge router names, 404 after removal', async () => {
    const config = await readConfig(0);
    const agentService = config.http.services[config.http.routers['karvon-acme-http-01']!.service];
    if (!agentService || !('loadBalancer' in agentService)) throw new Error('the challenge router names no load balancer');
    const agentUrl = new URL(agentService.loadBalancer.servers[0]!.url);
    const challenge = (action: 'install' | 'remove') =>
      ({
        id: `t-${action}`, kind: 'issue-challenge', idempotencyKey: `k-${action}`, deadline: '2030-01-01T00:00:00Z', attempt: 1, sessionGeneration: 1,
        payload: { hostname: HOST, token: 'Zx9_tok-en', keyAuthorization: 'Zx9_tok-en.Thumb-print_1', action },
      }) as Task;
    const ctx = { progress: () => undefined, signal: new AbortController().signal };
    const ask = () => httpRequest(Number(agentUrl.port), '/.well-known/acme-challenge/Zx9_tok-en', HOST);

    expect((await ask()).status).toBe(404);
    await routings[0]!.issueChallenge(challenge('install'), ctx);
    expect(await ask()).toMatchObject({ status: 200, body: 'Zx9_tok-en.Thumb-print_1' });
    await routings[0]!.issueChallenge(challenge('remove'), ctx);
    expect((await ask()).status).toBe(404);
  });

  it('drops the certificate files a new desired state no longer names', async () => {
    await routings[0]!.apply({ ...desiredFor(0), certificates: [] });
    expect((await readConfig(0)).tls).toBeUndefined();
    expect(await readdir(path.join(dir, nodes[0], 'proxy', 'certs'))).toEqual([]);
  });
});
