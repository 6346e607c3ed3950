// The certificate service against a real ACME server: Debian's Pebble validating HTTP-01 on a
// loopback port, its challtestsrv as DNS (every name is 127.0.0.1; TXT records for the domain
// proofs). Two raw agents of one region speak the real protocol: each receives the
// `issue-challenge` tasks, and the port Pebble validates answers from the SECOND node's tokens
// only, so issuance proves the token reached every node. Proven: a verified domain gets a real
// certificate, stored with its key sealed and shown `issued`; renewal replaces it; a failed
// validation is retried with backoff, shown `failed` with the reason, and recovers.
import { randomBytes, createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { agentToken, connectRawAgent, registerNode, type RawAgent } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { certificateKeyAad, loadIssuedCertificates } from '../src/certificates/certificate-store';
import { accountKeyAad } from '../src/certificates/acme-account';
import { routingForNodes } from '../src/routing/node-routing';
import { secretBoxFromMasterKeys } from '../src/secrets/secret-box';
import { startChallTestSrv, startPebble, type ChallTestSrv, type Pebble } from './certificates-pebble';

const REGION = 'tls-1';
const masterKey = randomBytes(32);
const box = secretBoxFromMasterKeys(masterKey);

interface DomainBody {
  id: string;
  hostname: string;
  status: string;
  verification: { name: string; value: string };
  tls?: { status: string; notAfter?: string; error?: string; attempts?: number; nextAttemptAt?: string };
}

interface CertRow {
  id: string;
  status: string;
  certificate_pem: string;
  private_key_ciphertext: string;
  not_before: Date;
  not_after: Date;
  issued_at: Date;
  attempts: number;
}

/** A node as the test plays it: real protocol frames, HTTP-01 tokens kept per node. */
interface FakeNode {
  id: string;
  agent: RawAgent;
  tokens: Map<string, string>;
}

let dns: ChallTestSrv;
let pebble: Pebble;
let responder: Server;
let cp: TestControlPlane;
let admin: ApiClient;
let customer: Customer;
let appId: string;
const nodes: FakeNode[] = [];
/** hostnames whose HTTP-01 answer the "node" refuses (a broken setup) */
const refused = new Set<string>();
let renewFraction = 1 / 3;

async function startNode(): Promise<FakeNode> {
  const reg = await registerNode(admin, REGION);
  const agent = await connectRawAgent(cp.url, await agentToken(cp.api, reg.credential));
  const node: FakeNode = { id: reg.nodeId, agent, tokens: new Map() };
  agent.ws.on('message', (data) => {
    const frame = JSON.parse((data as Buffer).toString('utf8')) as { type: string; payload: { id: string; kind: string; payload: { token: string; keyAuthorization: string; action: string } } };
    if (frame.type !== 'task') return;
    const task = frame.payload;
    agent.send('task-ack', { taskId: task.id, duplicate: false });
    if (task.kind === 'issue-challenge') {
      if (task.payload.action === 'install') node.tokens.set(task.payload.token, task.payload.keyAuthorization);
      else node.tokens.delete(task.payload.token);
    }
    agent.send('task-result', { taskId: task.id, status: 'succeeded', result: null });
  });
  agent.hello();
  await agent.nextFrame('welcome');
  return node;
}

beforeAll(async () => {
  dns = await startChallTestSrv();
  pebble = await startPebble(dns.dnsAddress);
  // Port 80 of "every node": what Pebble reaches for HTTP-01. It answers from the second node.
  responder = createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
    const answer = token && !refused.has(host) ? nodes[1]?.tokens.get(token) : undefined;
    res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'not here');
  });
  await new Promise<void>((resolve) => responder.listen(pebble.httpPort, '127.0.0.1', resolve));
  cp = await startTestControlPlane(
    {
      KARVON_MASTER_KEY: masterKey.toString('base64'),
      KARVON_ACME_DIRECTORY_URL: pebble.directoryUrl,
      KARVON_ACME_CA_FILE: pebble.caFile,
      KARVON_ACME_EMAIL: 'ops@karvon-tests.org',
      KARVON_DNS_RESOLVER: dns.dnsAddress,
      KARVON_APPS_DOMAIN: 'apps.karvon.io',
      // The raw agents send no heartbeats: keep them online for the whole file.
      KARVON_HEARTBEAT_SECONDS: '600',
      KARVON_NODE_GRACE_SECONDS: '3600',
    },
    { certificates: { renewFraction: () => renewFraction, backoff: { baseMs: 1000, maxMs: 8000 }, periodMs: 250 } },
  );
  admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  nodes.push(await startNode(), await startNode());
  customer = await registerCustomer(cp.api, 'tls', { admin, tier: 'business' });
  const p = await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'certs' });
  const a = await customer.api.post<{ id: string }>('/api/v1/apps', { projectId: p.body.id, name: 'shop', region: REGION, planId: 'small', source: { type: 'image', image: 'busybox:latest' } });
  expect(a.status).toBe(201);
  appId = a.body.id;
}, 120_000);

afterAll(async () => {
  for (const n of nodes) n.agent.ws.terminate();
  await cp?.stop();
  await new Promise((r) => (responder ? responder.close(r) : r(undefined)));
  await pebble?.stop();
  await dns?.stop();
});

async function addVerified(hostname: string): Promise<DomainBody> {
  const d = await customer.api.post<DomainBody>(`/api/v1/apps/${appId}/domains`, { hostname });
  expect(d.status).toBe(201);
  await dns.setTxt(d.body.verification.name, d.body.verification.value);
  const v = await customer.api.post<DomainBody>(`/api/v1/apps/${appId}/domains/${d.body.id}/verify`);
  expect(v.status).toBe(200);
  return v.body;
}

const domainNow = async (id: string) => (await customer.api.get<DomainBody>(`/api/v1/apps/${appId}/domains/${id}`)).body;
const certRow = async (hostname: string) => cp.db('certificates').where({ hostname }).first<CertRow>();
const generations = async () => (await cp.db('nodes').where({ region_id: REGION }).orderBy('id').pluck('desired_generation')).map(Number);

describe('issuance', () => {
  const hostname = 'shop.customer-one.com';
  let domain: DomainBody;

  it('gets a real certificate from Pebble for a verified domain, through HTTP-01 tokens pushed to every node', async () => {
    const before = await generations();
    domain = await addVerified(hostname);
    const issued = await eventually(async () => {
      const d = await domainNow(domain.id);
      expect(d.tls?.status).toBe('issued');
      return d;
    }, 45_000, 200);
    expect(new Date(issued.tls!.notAfter!).getTime()).toBeGreaterThan(Date.now());
    expect(issued.tls!.error).toBeUndefined();

    const row = await certRow(hostname);
    expect(row.certificate_pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(row.private_key_ciphertext).toMatch(/^v1\./);
    expect(row.private_key_ciphertext).not.toMatch(/PRIVATE KEY/);
    const key = createPrivateKey(box.open(row.private_key_ciphertext, certificateKeyAad(hostname)));
    const x509 = new X509Certificate(row.certificate_pem);
    expect(x509.checkPrivateKey(key)).toBe(true);
    expect(x509.subjectAltName).toContain(`DNS:${hostname}`);
    expect(x509.issuer).toMatch(/Pebble/i);
    // The key cannot be opened as another hostname's.
    expect(() => box.open(row.private_key_ciphertext, certificateKeyAad('other.customer-one.com'))).toThrow();

    // One account for the installation, its key sealed.
    const accounts = await cp.db('acme_accounts').select<Array<{ account_key_ciphertext: string; account_url: string }>>('*');
    expect(accounts).toHaveLength(1);
    expect(accounts[0]!.account_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    expect(box.open(accounts[0]!.account_key_ciphertext, accountKeyAad(pebble.directoryUrl))).toMatch(/BEGIN PRIVATE KEY|BEGIN EC PRIVATE KEY/);

    // The token went to BOTH nodes (the answer came from the second), then was removed from both.
    const tasks = await cp.db('tasks').where({ kind: 'issue-challenge' }).whereRaw(`payload->>'hostname' = ?`, [hostname]).select<Array<{ node_id: string; payload: { action: string } }>>('node_id', 'payload');
    const on = (action: string) => [...new Set(tasks.filter((t) => t.payload.action === action).map((t) => t.node_id))].sort();
    expect(on('install')).toEqual(nodes.map((n) => n.id).sort());
    expect(on('remove')).toEqual(nodes.map((n) => n.id).sort());
    await eventually(() => expect(nodes.map((n) => n.tokens.size)).toEqual([0, 0]));

    // Verification and issuance each moved the region's nodes to a new desired state.
    const after = await generations();
    after.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(before[i]! + 2));

    // What the nodes get: the route with TLS on, and the certificate with its key.
    const certs = await loadIssuedCertificates(cp.db, box, [hostname]);
    expect(certs).toHaveLength(1);
    const routing = routingForNodes({
      nodeIds: nodes.map((n) => n.id),
      apps: [{ appId, systemHostname: `shop.${REGION}.apps.karvon.io`, customHostnames: [hostname], upstreams: [] }],
      certificates: certs,
    });
    for (const n of nodes) {
      expect(routing.get(n.id)!.routes.find((r) => r.hostname === hostname)?.tls).toBe(true);
      expect(routing.get(n.id)!.certificates[0]!.privateKeyPem).toMatch(/PRIVATE KEY/);
    }
  });

  it('renews before expiry: the certificate is replaced with a new one', async () => {
    const old = await certRow(hostname);
    renewFraction = 1; // the whole lifetime counts as "left to renew in"
    let renewed: CertRow;
    try {
      renewed = await eventually(async () => {
        const r = await certRow(hostname);
        expect(r.certificate_pem).not.toBe(old.certificate_pem);
        return r;
      }, 45_000, 200);
    } finally {
      renewFraction = 1 / 3;
    }
    expect(renewed.status).toBe('issued');
    expect(renewed.issued_at.getTime()).toBeGreaterThan(old.issued_at.getTime());
    expect(renewed.not_after.getTime()).toBeGreaterThanOrEqual(old.not_after.getTime());
    expect(new X509Certificate(renewed.certificate_pem).serialNumber).not.toBe(new X509Certificate(old.certificate_pem).serialNumber);
    const d = await domainNow(domain.id);
    expect(d.tls).toMatchObject({ status: 'issued' });
    // With the default threshold nothing is due any more. An order the job leased while the
    // threshold was still 1 may finish first; after that the certificate stays put.
    await eventually(async () => {
      const settled = (await certRow(hostname)).certificate_pem;
      await new Promise((r) => setTimeout(r, 1500));
      expect((await certRow(hostname)).certificate_pem).toBe(settled);
    }, 30_000, 200);
  });
});

describe('failure', () => {
  it('retries a failed validation with growing backoff, shows failed with the reason, and recovers', async () => {
    const hostname = 'broken.customer-one.com';
    refused.add(hostname);
    const domain = await addVerified(hostname);
    const failed = await eventually(async () => {
      const d = await domainNow(domain.id);
      expect(d.tls?.status).toBe('failed');
      expect(d.tls?.attempts).toBeGreaterThanOrEqual(3);
      return d;
    }, 45_000, 200);
    // Pebble's own words: which URL it fetched and what it got.
    expect(failed.tls!.error).toMatch(/broken\.customer-one\.com.*acme-challenge.*404/);
    expect(new Date(failed.tls!.nextAttemptAt!).getTime()).toBeGreaterThan(Date.now() - 1000);
    expect((await certRow(hostname)).private_key_ciphertext).toBeNull();

    const orders = await cp.db('acme_orders')
      .where({ identifiers: hostname })
      .orderBy('created_at')
      .select<Array<{ outcome: string; created_at: Date; finished_at: Date }>>('outcome', 'created_at', 'finished_at');
    expect(orders.slice(0, 3).map((o) => o.outcome)).toEqual(['failed', 'failed', 'failed']);
    // From one failure to the next order: 1 s, then 2 s (plus up to the job's period). Measured
    // from the failure, not the previous order's start: an order's own time varies by a second.
    const waits = orders.slice(1, 3).map((o, i) => o.created_at.getTime() - orders[i]!.finished_at.getTime());
    expect(waits[0]).toBeGreaterThanOrEqual(1000 - 5);
    expect(waits[1]).toBeGreaterThanOrEqual(2000 - 5);
    expect(waits[1]).toBeGreaterThan(waits[0]!);

    refused.delete(hostname);
    const issued = await eventually(async () => {
      const d = await domainNow(domain.id);
      expect(d.tls?.status).toBe('issued');
      return d;
    }, 45_000, 250);
    expect(issued.tls!.error).toBeUndefined();
    expect(issued.tls!.notAfter).toBeDefined();
  });
});
