// Custom domains through the API against a real control plane, PostgreSQL and a real DNS server
// (pebble-challtestsrv, through KARVON_DNS_RESOLVER): hostname refusals naming `hostname` with
// nothing stored, one owner per hostname across tenants, TXT proof before anything is routed or
// ordered, and another tenant's 404 on every domain route. Certificates: certificates.int.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { registerNode } from '../../../test/agents';
import { verifiedHostnamesByApp } from '../src/domains/domains';
import { startChallTestSrv, type ChallTestSrv } from './certificates-pebble';

const REGION = 'dom-1';

interface DomainBody {
  id: string;
  appId: string;
  hostname: string;
  status: string;
  verification: { type: string; name: string; value: string };
  tls?: { status: string };
}

let cp: TestControlPlane;
let dns: ChallTestSrv;
let admin: ApiClient;
let alice: Customer;
let bob: Customer;
let aliceApp: string;
let bobApp: string;

async function createApp(c: Customer): Promise<string> {
  const p = await c.api.post<{ id: string }>('/api/v1/projects', { name: `p${Math.random().toString(36).slice(2, 8)}` });
  const a = await c.api.post<{ id: string }>('/api/v1/apps', { projectId: p.body.id, name: `a${Math.random().toString(36).slice(2, 9)}`, region: REGION, planId: 'small', source: { type: 'image', image: 'busybox:latest' } });
  expect(a.status).toBe(201);
  return a.body.id;
}

const domainCount = async () => Number((await cp.db('domains').count<Array<{ c: string }>>({ c: '*' }))[0]!.c);
const certCount = async () => Number((await cp.db('certificates').count<Array<{ c: string }>>({ c: '*' }))[0]!.c);
const generations = async () => (await cp.db('nodes').where({ region_id: REGION }).orderBy('id').pluck('desired_generation')).map(Number);

beforeAll(async () => {
  dns = await startChallTestSrv();
  cp = await startTestControlPlane({
    KARVON_DNS_RESOLVER: dns.dnsAddress,
    KARVON_APPS_DOMAIN: 'apps.karvon.io',
    KARVON_PUBLIC_URL: 'https://cp.karvon.io',
    KARVON_MUTATIONS_PER_MINUTE: '100000',
    KARVON_MUTATION_BURST: '100000',
  });
  admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  await registerNode(admin, REGION);
  alice = await registerCustomer(cp.api, 'alice', { admin, tier: 'business' });
  bob = await registerCustomer(cp.api, 'bob', { admin, tier: 'business' });
  aliceApp = await createApp(alice);
  bobApp = await createApp(bob);
});

afterAll(async () => {
  await cp?.stop();
  await dns?.stop();
});

describe('adding a domain', () => {
  it('answers 201 with the TXT record to publish, and nothing is routed or ordered yet', async () => {
    const before = await generations();
    const res = await alice.api.post<DomainBody>(`/api/v1/apps/${aliceApp}/domains`, { hostname: 'Shop.Alice-Example.com' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ hostname: 'shop.alice-example.com', status: 'pending-verification', verification: { type: 'dns-txt', name: '_karvon-challenge.shop.alice-example.com' } });
    expect(res.body.verification.value).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(res.body.tls).toBeUndefined();
    expect(await certCount()).toBe(0);
    expect(await generations()).toEqual(before);
    const list = await alice.api.get<{ items: DomainBody[] }>(`/api/v1/apps/${aliceApp}/domains`);
    expect(list.body.items.map((d) => d.hostname)).toContain('shop.alice-example.com');
  });

  it('normalizes an IDN to its A-label', async () => {
    const res = await alice.api.post<DomainBody>(`/api/v1/apps/${aliceApp}/domains`, { hostname: 'bücher-alice.de' });
    expect(res.status).toBe(201);
    expect(res.body.hostname).toBe('xn--bcher-alice-thb.de');
  });

  it.each([
    ['backticks', 'a`b.example.com'],
    ['Traefik rule syntax', 'a.com`) || Host(`evil.com'],
    ['a space', 'shop example.com'],
    ['||', 'a||b.example.com'],
    ['a wildcard', '*.alice-example.com'],
    ['look-alike unicode', 'pаypal.com'],
    ['whole-script look-alikes', 'раура.com'],
    ['localhost', 'localhost'],
    ['a name under localhost', 'shop.localhost'],
    ['an IPv4 literal', '127.0.0.1'],
    ['an IPv6 literal', '[::1]'],
    ['a single label', 'intranet'],
    ['a public suffix', 'co.uk'],
    ['the apps domain', 'apps.karvon.io'],
    ['a system hostname', 'web.dom-1.apps.karvon.io'],
    ["the control plane's hostname", 'cp.karvon.io'],
    ['a non-string', 42],
  ])('refuses %s with 400 naming hostname, storing nothing', async (_what, hostname) => {
    const before = await domainCount();
    const res = await alice.api.post<ApiErrorBody>(`/api/v1/apps/${aliceApp}/domains`, { hostname });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect((res.body.error.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toEqual(['hostname']);
    expect(await domainCount()).toBe(before);
  });

  it('refuses unknown fields', async () => {
    const res = await alice.api.post<ApiErrorBody>(`/api/v1/apps/${aliceApp}/domains`, { hostname: 'x.alice-example.com', appId: bobApp });
    expect(res.status).toBe(400);
  });

  it("refuses another tenant's hostname with 409, whatever its status, and in any spelling", async () => {
    const before = await domainCount();
    for (const hostname of ['shop.alice-example.com', 'SHOP.alice-example.com.', 'bücher-alice.de']) {
      const res = await bob.api.post<ApiErrorBody>(`/api/v1/apps/${bobApp}/domains`, { hostname });
      expect(res.status, hostname).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
    }
    expect(await domainCount()).toBe(before);
  });
});

describe('verification', () => {
  let domain: DomainBody;
  beforeAll(async () => {
    domain = (await alice.api.post<DomainBody>(`/api/v1/apps/${aliceApp}/domains`, { hostname: 'www.alice-verify.com' })).body;
  });

  it('answers 409 while the TXT record is missing or wrong, changing nothing', async () => {
    const before = await generations();
    const missing = await alice.api.post<ApiErrorBody>(`/api/v1/apps/${aliceApp}/domains/${domain.id}/verify`);
    expect(missing.status).toBe(409);
    expect(missing.body.error.details).toMatchObject({ reason: 'txt-not-found', name: '_karvon-challenge.www.alice-verify.com' });
    await dns.setTxt(domain.verification.name, 'someone-else');
    const wrong = await alice.api.post<ApiErrorBody>(`/api/v1/apps/${aliceApp}/domains/${domain.id}/verify`);
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.details).toMatchObject({ reason: 'txt-mismatch' });
    expect(await cp.db('domains').where({ id: domain.id }).first('status')).toEqual({ status: 'pending-verification' });
    expect(await certCount()).toBe(0);
    expect((await verifiedHostnamesByApp(cp.db, [REGION])).get(aliceApp)).toBeUndefined();
    expect(await generations()).toEqual(before);
  });

  it('verifies with the record published: the certificate is requested and the region gets the route', async () => {
    const before = await generations();
    await dns.setTxt(domain.verification.name, domain.verification.value);
    const res = await alice.api.post<DomainBody>(`/api/v1/apps/${aliceApp}/domains/${domain.id}/verify`);
    expect(res.status).toBe(200);
    // No ACME directory in this file: the certificate stays pending.
    expect(res.body).toMatchObject({ status: 'verified', tls: { status: 'pending' } });
    expect(await cp.db('certificates').where({ hostname: 'www.alice-verify.com' }).first('status')).toEqual({ status: 'pending' });
    expect((await verifiedHostnamesByApp(cp.db, [REGION])).get(aliceApp)).toEqual(['www.alice-verify.com']);
    expect((await generations()).map((g, i) => g - before[i]!)).toEqual(before.map(() => 1));
    const again = await alice.api.post<DomainBody>(`/api/v1/apps/${aliceApp}/domains/${domain.id}/verify`);
    expect(again.status).toBe(200);
    expect(await generations()).toEqual(before.map((g) => g + 1));
  });

  it('deleting releases the hostname (another tenant may claim it) and drops the certificate', async () => {
    const res = await alice.api.delete(`/api/v1/apps/${aliceApp}/domains/${domain.id}`);
    expect(res.status).toBe(204);
    expect(await cp.db('certificates').where({ hostname: 'www.alice-verify.com' }).first()).toBeUndefined();
    const bobs = await bob.api.post<DomainBody>(`/api/v1/apps/${bobApp}/domains`, { hostname: 'www.alice-verify.com' });
    expect(bobs.status).toBe(201);
    // A fresh proof: Alice's old TXT value does not verify Bob's claim.
    const verify = await bob.api.post<ApiErrorBody>(`/api/v1/apps/${bobApp}/domains/${bobs.body.id}/verify`);
    expect(verify.status).toBe(409);
  });
});

describe('tenant isolation', () => {
  it('gives another customer 404 on every domain route, and through their own app too', async () => {
    const d = (await alice.api.post<DomainBody>(`/api/v1/apps/${aliceApp}/domains`, { hostname: 'iso.alice-example.com' })).body;
    await dns.setTxt(d.verification.name, d.verification.value);
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/apps/${aliceApp}/domains`],
      ['POST', `/api/v1/apps/${aliceApp}/domains`, { hostname: 'bob-was-here.com' }],
      ['GET', `/api/v1/apps/${aliceApp}/domains/${d.id}`],
      ['POST', `/api/v1/apps/${aliceApp}/domains/${d.id}/verify`],
      ['DELETE', `/api/v1/apps/${aliceApp}/domains/${d.id}`],
      // Alice's domain id under Bob's own app: still not his.
      ['GET', `/api/v1/apps/${bobApp}/domains/${d.id}`],
      ['POST', `/api/v1/apps/${bobApp}/domains/${d.id}/verify`],
      ['DELETE', `/api/v1/apps/${bobApp}/domains/${d.id}`],
    ];
    for (const [method, path, body] of calls) {
      const res = await bob.api.request<ApiErrorBody>(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect(await cp.db('domains').where({ id: d.id }).first('status', 'deleted_at')).toEqual({ status: 'pending-verification', deleted_at: null });
    expect(await cp.db('domains').where({ hostname: 'bob-was-here.com' }).first()).toBeUndefined();
    // And Alice's own domain id under Bob's app is no way in for Alice either.
    expect((await alice.api.get(`/api/v1/apps/${bobApp}/domains/${d.id}`)).status).toBe(404);
  });

  it('answers 400 for a malformed domain id and 404 for an unknown one', async () => {
    expect((await alice.api.get(`/api/v1/apps/${aliceApp}/domains/nope`)).status).toBe(400);
    expect((await alice.api.get(`/api/v1/apps/${aliceApp}/domains/dom_00000000000000000000`)).status).toBe(404);
  });
});
