import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Certificate, DesiredAllocation, Route } from '@karvon/protocol';
import { renderDynamicConfig, type RoutingInput } from './dynamic-config';
import { serializeDynamicConfig } from './render-file';
import { dynamicConfigErrors, selfSignedCertificate } from './testing';
import { AGENT_SERVICE, CHALLENGE_ROUTER, ENTRYPOINTS, REDIRECT_MIDDLEWARE, routerName, serviceName } from './traefik-names';

const CERTS = '/var/lib/karvon-agent/proxy/certs';
const AGENT = '127.0.0.1:8089';
const shop = selfSignedCertificate(['shop.example.com', 'www.shop.example.com']);
const other = selfSignedCertificate(['other.example.com']);

const route = (hostname: string, over: Partial<Route> = {}): Route => ({ hostname, appId: 'app_shop', tls: false, upstreams: [], ...over });
const local = (address: string) => ({ address, local: true });
const remote = (address: string) => ({ address, local: false });
const httpAlloc = (appId: string, path = '/healthz'): RoutingInput['allocations'][number] => ({ appId, healthCheck: { type: 'http', path }, desiredStatus: 'running' });
const cert = (id: string, hostnames: string[], pair = shop): Certificate => ({ id, hostnames, ...pair, notAfter: '2030-01-01T00:00:00Z' });

/** Renders, and checks what every rendering must be: schema-valid, and the same object once read back as YAML. */
function render(over: Partial<RoutingInput>) {
  const out = renderDynamicConfig({ routes: [], certificates: [], allocations: [], agentUpstream: AGENT, certificatesDir: CERTS, ...over });
  expect(dynamicConfigErrors(out.config)).toEqual([]);
  const text = serializeDynamicConfig(out.config);
  expect(parseYaml(text)).toEqual(JSON.parse(JSON.stringify(out.config)));
  return { ...out, text };
}

const svc = serviceName('app_shop');
const web = (h: string) => routerName(h, ENTRYPOINTS.web);
const secure = (h: string) => routerName(h, ENTRYPOINTS.websecure);

describe('renderDynamicConfig', () => {
  it('is judged by a schema with teeth (a service without servers, a router without a rule fail)', () => {
    expect(dynamicConfigErrors({ http: { services: { x: { loadBalancer: { servers: [] } } } } })).not.toEqual([]);
    expect(dynamicConfigErrors({ http: { routers: { x: { service: 'x' } } } })).not.toEqual([]);
  });

  it('always has the HTTP-01 router (on web, above every Host rule) to the agent, and the redirect middleware', () => {
    const { config, refused } = render({});
    expect(config.http.routers[CHALLENGE_ROUTER]).toEqual({
      entryPoints: ['web'],
      rule: 'PathPrefix(`/.well-known/acme-challenge/`)',
      priority: 100_000,
      service: AGENT_SERVICE,
    });
    expect(config.http.services[AGENT_SERVICE]).toEqual({ loadBalancer: { servers: [{ url: 'http://127.0.0.1:8089' }] } });
    expect(config.http.middlewares[REDIRECT_MIDDLEWARE]).toEqual({ redirectScheme: { scheme: 'https', permanent: true } });
    expect(Object.keys(config.http.routers)).toEqual([CHALLENGE_ROUTER]);
    expect(config.tls).toBeUndefined();
    expect(refused).toEqual([]);
  });

  it.each([
    {
      name: 'local replicas only: one load balancer',
      upstreams: [local('10.0.0.1:20001'), local('10.0.0.1:20000')],
      allocations: [httpAlloc('app_shop')],
      services: { [svc]: { loadBalancer: { servers: [{ url: 'http://10.0.0.1:20000' }, { url: 'http://10.0.0.1:20001' }] } } },
    },
    {
      name: 'other nodes only: one load balancer of theirs',
      upstreams: [remote('10.0.0.2:20000'), remote('10.0.0.3:20000')],
      allocations: [],
      services: { [svc]: { loadBalancer: { servers: [{ url: 'http://10.0.0.2:20000' }, { url: 'http://10.0.0.3:20000' }] } } },
    },
    {
      name: 'both, HTTP-checked app: failover from the health-checked local pool to the remote one',
      upstreams: [remote('10.0.0.2:20000'), local('10.0.0.1:20000'), remote('[fd00::3]:20000')],
      allocations: [httpAlloc('app_shop', '/up'), httpAlloc('app_other', '/other')],
      services: {
        [svc]: { failover: { service: `${svc}-local`, fallback: `${svc}-remote` } },
        [`${svc}-local`]: { loadBalancer: { servers: [{ url: 'http://10.0.0.1:20000' }], healthCheck: { path: '/up', interval: '5s', timeout: '3s' } } },
        [`${svc}-remote`]: { loadBalancer: { servers: [{ url: 'http://10.0.0.2:20000' }, { url: 'http://[fd00::3]:20000' }] } },
      },
    },
    {
      name: 'both, TCP-checked app (Traefik has no TCP check for HTTP services): one pool, local listed first',
      upstreams: [remote('10.0.0.2:20000'), local('10.0.0.1:20000')],
      allocations: [{ appId: 'app_shop', healthCheck: { type: 'tcp' }, desiredStatus: 'running' }] as RoutingInput['allocations'],
      services: { [svc]: { loadBalancer: { servers: [{ url: 'http://10.0.0.1:20000' }, { url: 'http://10.0.0.2:20000' }] } } },
    },
    {
      name: 'no healthy replica: the agent answers 503, the hostname stays this app’s',
      upstreams: [],
      allocations: [],
      services: { [svc]: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:8089' }] } } },
    },
  ])('services: $name', ({ upstreams, allocations, services }) => {
    const { config } = render({ routes: [route('shop.example.com', { upstreams })], allocations });
    const { [AGENT_SERVICE]: _agent, ...appServices } = config.http.services;
    expect(appServices).toEqual(services);
    expect(config.http.routers[web('shop.example.com')]).toEqual({ entryPoints: ['web'], rule: 'Host(`shop.example.com`)', service: svc });
  });

  it('routes every hostname of an app to one service holding the union of its upstreams', () => {
    const { config } = render({
      routes: [route('www.shop.example.com', { upstreams: [local('10.0.0.1:20000')] }), route('shop.example.com', { upstreams: [local('10.0.0.1:20001')] })],
    });
    expect(config.http.routers[web('shop.example.com')]?.service).toBe(svc);
    expect(config.http.routers[web('www.shop.example.com')]?.service).toBe(svc);
    expect(config.http.services[svc]).toEqual({ loadBalancer: { servers: [{ url: 'http://10.0.0.1:20000' }, { url: 'http://10.0.0.1:20001' }] } });
  });

  it('HTTPS with a certificate: web redirects, websecure serves, the certificate files are under the proxy dir', () => {
    const { config, certificateFiles } = render({
      routes: [route('shop.example.com', { tls: true, upstreams: [local('10.0.0.1:20000')] })],
      certificates: [cert('cert_shop', ['shop.example.com', 'www.shop.example.com'])],
    });
    expect(config.http.routers[web('shop.example.com')]).toEqual({ entryPoints: ['web'], rule: 'Host(`shop.example.com`)', service: svc, middlewares: [REDIRECT_MIDDLEWARE] });
    expect(config.http.routers[secure('shop.example.com')]).toEqual({ entryPoints: ['websecure'], rule: 'Host(`shop.example.com`)', service: svc, tls: {} });
    expect(certificateFiles).toHaveLength(1);
    const [f] = certificateFiles;
    expect(f?.certFile).toMatch(/^\/var\/lib\/karvon-agent\/proxy\/certs\/cert_shop-[0-9a-f]{16}\.crt$/);
    expect(f?.keyFile).toBe(f?.certFile.replace(/\.crt$/, '.key'));
    expect(config.tls).toEqual({ certificates: [{ certFile: f?.certFile, keyFile: f?.keyFile }] });
  });

  it('HTTPS asked for but no certificate yet: no redirect (plain HTTP keeps working), websecure still routed', () => {
    const { config } = render({ routes: [route('shop.example.com', { tls: true })] });
    expect(config.http.routers[web('shop.example.com')]?.middlewares).toBeUndefined();
    expect(config.http.routers[secure('shop.example.com')]?.tls).toEqual({});
  });

  it('HTTP only: no websecure router', () => {
    const { config } = render({ routes: [route('shop.example.com')] });
    expect(config.http.routers[secure('shop.example.com')]).toBeUndefined();
  });

  it('a renewed certificate gets new file names, so the config itself changes', () => {
    const a = render({ certificates: [cert('cert_shop', ['shop.example.com'])] });
    const b = render({ certificates: [cert('cert_shop', ['shop.example.com'], other)] });
    expect(a.certificateFiles[0]?.certFile).not.toBe(b.certificateFiles[0]?.certFile);
    expect(a.text).not.toBe(b.text);
  });

  const BAD = ['a.com`) || PathPrefix(`/', 'evil.com`', 'a b.com', 'a.com||b.com', '*.example.com', 'exаmple.com', 'xn--exmple-4nf.com', 'localhost', 'app.localhost', '127.0.0.1', '[::1]', 'EVIL.COM'];

  it.each(BAD)('refuses the route for %j and renders nothing of it', (hostname) => {
    const { config, refused, text } = render({
      routes: [route(hostname, { appId: 'app_evil', upstreams: [local('10.0.0.9:20000')] }), route('shop.example.com', { upstreams: [local('10.0.0.1:20000')] })],
    });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ kind: 'route', hostname, appId: 'app_evil' });
    expect(Object.keys(config.http.routers).sort()).toEqual([CHALLENGE_ROUTER, web('shop.example.com')].sort());
    expect(config.http.services[serviceName('app_evil')]).toBeUndefined();
    expect(text).not.toContain('10.0.0.9');
    for (const r of Object.values(config.http.routers)) expect(r.rule).not.toContain(hostname);
  });

  it('refuses a hostname two apps claim, for both (never a guess between tenants)', () => {
    const { config, refused } = render({
      routes: [route('shop.example.com', { appId: 'app_a' }), route('shop.example.com', { appId: 'app_b' }), route('ok.example.com', { appId: 'app_a' })],
    });
    expect(refused.map((r) => r.kind === 'route' && [r.appId, r.reason])).toEqual([
      ['app_a', 'duplicate-hostname'],
      ['app_b', 'duplicate-hostname'],
    ]);
    expect(Object.keys(config.http.routers).sort()).toEqual([CHALLENGE_ROUTER, web('ok.example.com')].sort());
  });

  it('refuses a route whose other fields break the protocol schema (an upstream that is not host:port)', () => {
    const { refused, text } = render({ routes: [route('shop.example.com', { upstreams: [local('10.0.0.1:1/`) || Host(`x')] })] });
    expect(refused).toEqual([{ kind: 'route', hostname: 'shop.example.com', appId: 'app_shop', reason: 'invalid-route' }]);
    expect(text).not.toContain('shop.example.com');
  });

  it.each([
    ['a wildcard hostname', cert('c1', ['*.example.com']), 'wildcard'],
    ['an IP literal', cert('c1', ['10.0.0.1']), 'ip-literal'],
    ['an unreadable PEM', { ...cert('c1', ['shop.example.com']), certificatePem: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n' }, 'unreadable-pem'],
    ['a key of another certificate', { ...cert('c1', ['shop.example.com']), privateKeyPem: other.privateKeyPem }, 'key-mismatch'],
    ['a bad id', { ...cert('c1', ['shop.example.com']), id: '../../etc/x' }, 'invalid-certificate'],
  ])('refuses a certificate with %s, and writes no file for it', (_name, c, reason) => {
    const { config, certificateFiles, refused } = render({ routes: [route('shop.example.com', { tls: true })], certificates: [c] });
    expect(refused).toEqual([{ kind: 'certificate', id: c.id, reason }]);
    expect(certificateFiles).toEqual([]);
    expect(config.tls).toBeUndefined();
    // Without its certificate the hostname is not redirected to HTTPS.
    expect(config.http.routers[web('shop.example.com')]?.middlewares).toBeUndefined();
  });

  it('is a function of its input alone: the order of routes, upstreams and certificates does not matter', () => {
    const routes = [
      route('b.example.com', { appId: 'app_b', upstreams: [local('10.0.0.1:20001'), remote('10.0.0.2:20001')] }),
      route('a.example.com', { appId: 'app_a', tls: true, upstreams: [remote('10.0.0.2:20000'), local('10.0.0.1:20000')] }),
    ];
    const certificates = [cert('c_b', ['b.example.com'], other), cert('c_a', ['a.example.com'])];
    const allocations: Pick<DesiredAllocation, 'appId' | 'healthCheck' | 'desiredStatus'>[] = [httpAlloc('app_a'), httpAlloc('app_b')];
    const one = render({ routes, certificates, allocations });
    const two = render({
      routes: routes.map((r) => ({ ...r, upstreams: [...r.upstreams].reverse() })).reverse(),
      certificates: [...certificates].reverse(),
      allocations: [...allocations].reverse(),
    });
    expect(two.text).toBe(one.text);
  });
});
