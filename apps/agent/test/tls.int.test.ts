// Custom domain → real certificate → Traefik config on two real agents, end to end: Debian's
// Pebble (a real ACME server) with its challtestsrv as DNS (every name is 127.0.0.1; the
// `_karvon-challenge.<domain>` TXT proof), a control plane ordering from Pebble, and TWO agent
// processes of one region on this machine's Docker engine, each with its own state dir, port
// range, challenge responder and proxy dir. The first agent's responder listens on the port
// Pebble validates HTTP-01 on, so the certificate can only be issued through the key
// authorization that agent received as an `issue-challenge` task and served for the domain's
// Host. Proven: issued and shown with notAfter, shipped to BOTH agents and written into their
// Traefik dynamic config (router with TLS, certificate files holding Pebble's certificate, the
// official schema), the upstreams named for the app answer; an early renewal reaches both files.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ApiClient } from '../../../test/api-client';
import { registrationToken } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { freePort } from '../../../test/free-port';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';
import { startChallTestSrv, startPebble, type ChallTestSrv, type Pebble } from '../../control-plane/test/certificates-pebble';
import { dynamicConfigErrors } from '../src/routing/testing';
import type { TraefikDynamicConfig } from '../src/routing/traefik-config';
import { buildFixtureImages, fetchText, imageOf, removeNodeObjects, testPortRange } from './runtime-fixtures';

const REGION = 'tls-e2e-1';
const APPS_DOMAIN = 'apps.karvon.io';
const HOSTNAME = 'www.tls-customer.com';
const bin = nodeBin('apps/agent/bin/karvon-agent.js');

interface Instance {
  id: string;
  nodeId: string;
  status: string;
  upstream: string | null;
}
interface Deploy {
  id: string;
  status: string;
  error?: { code: string; message: string };
}
interface DomainBody {
  id: string;
  hostname: string;
  status: string;
  verification: { name: string; value: string };
  tls?: { status: string; notAfter?: string; error?: string };
}
interface Agent {
  nodeId: string;
  stateDir: string;
  proxyDir: string;
  challengePort: number;
  proc: RunningProcess;
}

await describeDocker('TLS end to end: custom domain → Pebble certificate via an agent’s HTTP-01 answer → two agents’ Traefik config', () => {
  let docker: Docker;
  let dns: ChallTestSrv;
  let pebble: Pebble;
  let cp: TestControlPlane;
  let admin: ApiClient;
  let customer: Customer;
  let appId = '';
  let domainId = '';
  let renewFraction = 1 / 3;
  const agents: Agent[] = [];

  const api = () => customer.api;
  const instances = async () => (await api().get<{ items: Instance[] }>(`/api/v1/apps/${appId}/instances`)).body.items;
  const readConfig = async (a: Agent) => parseYaml(await readFile(path.join(a.proxyDir, 'karvon.yml'), 'utf8')) as TraefikDynamicConfig;
  const agentLogs = () => agents.map((a, i) => `--- agent ${i} (${a.nodeId})\n${a.proc.output().slice(-3000)}`).join('\n');

  /** The Pebble certificate the agent's config ships for HOSTNAME, checked on the way: a websecure router with TLS, the cert/key files. */
  const shippedCertificate = async (a: Agent): Promise<X509Certificate> => {
    const config = await readConfig(a);
    expect(dynamicConfigErrors(config)).toEqual([]);
    const routers = Object.values(config.http.routers).filter((r) => r.rule === `Host(\`${HOSTNAME}\`)`);
    expect(routers.filter((r) => r.tls !== undefined)).toHaveLength(1);
    const files = config.tls?.certificates ?? [];
    const matching: X509Certificate[] = [];
    for (const f of files) {
      expect(path.dirname(f.certFile)).toBe(path.join(a.proxyDir, 'certs'));
      const x509 = new X509Certificate(await readFile(f.certFile, 'utf8'));
      if (!x509.subjectAltName?.split(', ').includes(`DNS:${HOSTNAME}`)) continue;
      expect(x509.checkPrivateKey(createPrivateKey(await readFile(f.keyFile, 'utf8')))).toBe(true);
      matching.push(x509);
    }
    expect(matching).toHaveLength(1);
    return matching[0]!;
  };

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildFixtureImages(docker);
    dns = await startChallTestSrv();
    pebble = await startPebble(dns.dnsAddress);
    cp = await startTestControlPlane(
      {
        KARVON_ACME_DIRECTORY_URL: pebble.directoryUrl,
        KARVON_ACME_CA_FILE: pebble.caFile,
        KARVON_ACME_EMAIL: 'ops@karvon-tests.org',
        KARVON_DNS_RESOLVER: dns.dnsAddress,
        KARVON_APPS_DOMAIN: APPS_DOMAIN,
        KARVON_HEARTBEAT_SECONDS: '1',
        KARVON_NODE_GRACE_SECONDS: '30',
        KARVON_ROLLOUT_TIMEOUT_SECONDS: '120',
        // The tests saturate this machine's CPU: the agents' usage must not make their nodes degraded.
        KARVON_DEGRADED_PERCENT: '100',
        KARVON_MUTATIONS_PER_MINUTE: '10000',
        KARVON_MUTATION_BURST: '10000',
      },
      { certificates: { renewFraction: () => renewFraction, backoff: { baseMs: 1000, maxMs: 4000 }, periodMs: 250 } },
    );
    admin = await cp.adminClient();
    await ensureCatalog(admin, REGION);
    const first = testPortRange();
    const second = { min: first.min >= 28_000 ? first.min - 100 : first.min + 100, max: 0 };
    second.max = second.min + 99;
    // Agent 0 answers HTTP-01 on the port Pebble validates; agent 1 on a port nobody asks.
    const challengePorts = [pebble.httpPort, await freePort()];
    for (const [i, range] of [first, second].entries()) {
      const stateDir = await mkdtemp(path.join(tmpdir(), `karvon-tls-${i}-`));
      const token = await registrationToken(admin, REGION);
      const reg = startProcess(bin.file, [...bin.args, 'register', '--control-plane', cp.url, '--token', token, '--state-dir', stateDir, '--name', `tls-${i}`], {});
      expect(await reg.exited, reg.output()).toBe(0);
      const nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
      const proxyDir = path.join(stateDir, 'traefik-dynamic');
      const proc = startProcess(bin.file, [...bin.args, 'run', '--state-dir', stateDir], {
        KARVON_LOG_LEVEL: 'info',
        KARVON_ADVERTISE_ADDR: '127.0.0.1',
        KARVON_PORT_RANGE: `${range.min}-${range.max}`,
        KARVON_DRAIN_SECONDS: '0',
        KARVON_CHALLENGE_PORT: String(challengePorts[i]),
        KARVON_PROXY_DIR: proxyDir,
      });
      agents.push({ nodeId, stateDir, proxyDir, challengePort: challengePorts[i]!, proc });
    }
    for (const a of agents) {
      await eventually(() => expect(cp.hub.sessionGeneration(a.nodeId)).toBeDefined(), 15_000);
      await a.proc.waitForOutput(/challenge responder listening/, 10_000);
    }
    customer = await registerCustomer(cp.api, 'tls-e2e', { admin, tier: 'business' });
  }, 120_000);

  afterAll(async () => {
    // The control plane first: its stop waits for a certificate run in flight, which needs the
    // agents to answer HTTP-01 (a renewal started by the last test can still be running).
    await cp?.stop();
    for (const a of agents) a.proc.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.proc.exited));
    for (const a of agents) if (docker) await removeNodeObjects(docker, a.nodeId);
    await pebble?.stop();
    await dns?.stop();
    for (const a of agents) await rm(a.stateDir, { recursive: true, force: true });
  }, 60_000);

  it('deploys an app with a replica on each node; both agents route its system hostname to both upstreams', async () => {
    const project = await api().post<{ id: string }>('/api/v1/projects', { name: 'tls' });
    const created = await api().post<{ id: string; hostname: string }>('/api/v1/apps', {
      projectId: project.body.id,
      name: 'web',
      region: REGION,
      planId: 'small',
      replicas: 2,
      source: { type: 'image', image: imageOf('node-hello') },
      port: 3000,
      healthCheck: { type: 'http', path: '/healthz' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    appId = created.body.id;
    const deploy = await api().post<Deploy>(`/api/v1/apps/${appId}/deploys`, {});
    expect(deploy.status).toBe(202);
    const done = await eventually(async () => {
      const got = (await api().get<Deploy>(`/api/v1/deploys/${deploy.body.id}`)).body;
      expect(['succeeded', 'failed', 'cancelled']).toContain(got.status);
      return got;
    }, 90_000, 250);
    expect(done, agentLogs()).toMatchObject({ status: 'succeeded' });
    const list = await eventually(async () => {
      const l = await instances();
      expect(l.map((i) => i.status)).toEqual(['healthy', 'healthy']);
      for (const i of l) expect(JSON.parse(await fetchText(`http://${i.upstream}/`))).toHaveProperty('greeting');
      return l;
    }, 60_000, 250);
    // Spread: one replica per node.
    expect(list.map((i) => i.nodeId).sort()).toEqual(agents.map((a) => a.nodeId).sort());
    const upstreams = list.map((i) => `http://${i.upstream}`).sort();
    // Each agent renders the system hostname with both replicas (its own one as the local one).
    await eventually(async () => {
      for (const a of agents) {
        const config = await readConfig(a);
        expect(dynamicConfigErrors(config)).toEqual([]);
        expect(Object.values(config.http.routers).map((r) => r.rule)).toContain(`Host(\`web.${REGION}.${APPS_DOMAIN}\`)`);
        const urls = Object.values(config.http.services).flatMap((s) => ('loadBalancer' in s ? s.loadBalancer.servers.map((x) => x.url) : []));
        expect(urls.filter((u) => upstreams.includes(u)).sort()).toEqual(upstreams);
      }
    }, 30_000, 250);
  }, 150_000);

  it('a verified custom domain gets a Pebble certificate through agent 0’s HTTP-01 answer, shipped to both agents’ Traefik config', async () => {
    const added = await api().post<DomainBody>(`/api/v1/apps/${appId}/domains`, { hostname: HOSTNAME });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.verification.name).toBe(`_karvon-challenge.${HOSTNAME}`);
    domainId = added.body.id;
    await dns.setTxt(added.body.verification.name, added.body.verification.value);
    const verified = await api().post<DomainBody>(`/api/v1/apps/${appId}/domains/${domainId}/verify`);
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(verified.body.status).toBe('verified');

    const issued = await eventually(async () => {
      const d = (await api().get<{ items: DomainBody[] }>(`/api/v1/apps/${appId}/domains`)).body.items.find((x) => x.id === domainId);
      expect(d?.tls?.error, agentLogs()).toBeUndefined();
      expect(d?.tls?.status).toBe('issued');
      return d!;
    }, 60_000, 250);
    expect(new Date(issued.tls!.notAfter!).getTime()).toBeGreaterThan(Date.now());

    // The token went to both agents, which both took it (install and remove).
    const tasks = await cp.db('tasks').where({ kind: 'issue-challenge' }).whereRaw(`payload->>'hostname' = ?`, [HOSTNAME]).select<Array<{ node_id: string; state: string; payload: { action: string } }>>('node_id', 'state', 'payload');
    const installed = tasks.filter((t) => t.payload.action === 'install');
    expect(installed.map((t) => t.node_id).sort()).toEqual(agents.map((a) => a.nodeId).sort());
    expect(installed.map((t) => t.state)).toEqual(['succeeded', 'succeeded']);

    const stored = await cp.db('certificates').where({ hostname: HOSTNAME }).first<{ certificate_pem: string }>();
    const x509 = new X509Certificate(stored.certificate_pem);
    expect(x509.issuer).toMatch(/Pebble/i);
    expect(x509.subjectAltName).toContain(`DNS:${HOSTNAME}`);
    expect(new Date(x509.validTo).toISOString().slice(0, 16)).toBe(issued.tls!.notAfter!.slice(0, 16));

    // Both agents: router with TLS for the hostname, the Pebble certificate in the files, schema-valid.
    await eventually(async () => {
      for (const a of agents) expect((await shippedCertificate(a)).serialNumber).toBe(x509.serialNumber);
    }, 20_000, 250);

    // The upstreams named for the app (custom hostname's router → its service) answer.
    for (const a of agents) {
      const config = await readConfig(a);
      const router = Object.values(config.http.routers).find((r) => r.rule === `Host(\`${HOSTNAME}\`)` && r.tls !== undefined)!;
      const urls = serverUrls(config, router.service);
      expect(urls.length).toBe(2);
      for (const url of urls) {
        const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        expect(res.status).toBe(200);
        expect(await res.json()).toHaveProperty('greeting');
      }
    }
  }, 90_000);

  it('renews early: the new certificate (another serial) replaces the old one in both agents’ files', async () => {
    const old = await cp.db('certificates').where({ hostname: HOSTNAME }).first<{ certificate_pem: string }>();
    const oldSerial = new X509Certificate(old.certificate_pem).serialNumber;
    renewFraction = 1; // the whole lifetime counts as "left to renew in"
    let renewedPem: string;
    try {
      renewedPem = await eventually(async () => {
        const r = await cp.db('certificates').where({ hostname: HOSTNAME }).first<{ certificate_pem: string; status: string }>();
        expect(r.certificate_pem).not.toBe(old.certificate_pem);
        return r.certificate_pem;
      }, 45_000, 200);
    } finally {
      renewFraction = 1 / 3;
    }
    // An order already leased when the threshold went back may still finish after this one: what
    // counts is the certificate that stays, in the database, in both agents' files and in the API.
    expect(new X509Certificate(renewedPem).serialNumber).not.toBe(oldSerial);
    await eventually(async () => {
      const current = new X509Certificate((await cp.db('certificates').where({ hostname: HOSTNAME }).first<{ certificate_pem: string }>()).certificate_pem);
      expect(current.serialNumber).not.toBe(oldSerial);
      for (const a of agents) expect((await shippedCertificate(a)).serialNumber).toBe(current.serialNumber);
      const d = (await api().get<{ items: DomainBody[] }>(`/api/v1/apps/${appId}/domains`)).body.items.find((x) => x.id === domainId)!;
      expect(d.tls?.status).toBe('issued');
      expect(d.tls?.notAfter?.slice(0, 19)).toBe(new Date(current.validTo).toISOString().slice(0, 19));
    }, 30_000, 250);
  }, 90_000);
});

/** The load balancers' server URLs behind a service, following failover and weighted children. */
function serverUrls(config: TraefikDynamicConfig, name: string): string[] {
  const s = config.http.services[name];
  if (!s) return [];
  if ('loadBalancer' in s) return s.loadBalancer.servers.map((x) => x.url);
  if ('failover' in s) return [...serverUrls(config, s.failover.service), ...serverUrls(config, s.failover.fallback)];
  return [];
}
