import { describe, expect, it } from 'vitest';
import { certificateSchema, routeSchema, type Certificate } from '@karvon/protocol';
import { certificateCovers, routingForNodes, type RoutedApp } from './node-routing';

const cert = (id: string, hostnames: string[]): Certificate => ({ id, hostnames, certificatePem: 'CERT', privateKeyPem: 'KEY', notAfter: '2030-01-01T00:00:00.000Z' });

const web: RoutedApp = {
  appId: 'app_web',
  systemHostname: 'web.eu.apps.karvon.io',
  customHostnames: ['shop.example.com'],
  upstreams: [
    { nodeId: 'n1', address: '10.0.0.1:30001', localAddress: '127.0.0.1:30001' },
    { nodeId: 'n2', address: '10.0.0.2:30002' },
  ],
};
const api: RoutedApp = { appId: 'app_api', systemHostname: 'api.eu.apps.karvon.io', customHostnames: [], upstreams: [] };

describe('routingForNodes', () => {
  const out = routingForNodes({ nodeIds: ['n1', 'n2', 'n3'], apps: [web, api], certificates: [cert('cert_shop', ['shop.example.com']), cert('cert_other', ['elsewhere.example.org'])] });

  it('gives every node of the region every hostname, sorted, in the protocol shape', () => {
    for (const n of ['n1', 'n2', 'n3']) {
      const r = out.get(n)!;
      expect(r.routes.map((x) => x.hostname)).toEqual(['api.eu.apps.karvon.io', 'shop.example.com', 'web.eu.apps.karvon.io']);
      for (const route of r.routes) expect(routeSchema.parse(route)).toEqual(route);
      for (const c of r.certificates) expect(certificateSchema.parse(c)).toEqual(c);
    }
  });

  it('puts local replicas first, through their local address, and the rest as fallbacks', () => {
    const shop = (n: string) => out.get(n)!.routes.find((r) => r.hostname === 'shop.example.com')!.upstreams;
    expect(shop('n1')).toEqual([{ address: '127.0.0.1:30001', local: true }, { address: '10.0.0.2:30002', local: false }]);
    expect(shop('n2')).toEqual([{ address: '10.0.0.2:30002', local: true }, { address: '10.0.0.1:30001', local: false }]);
    expect(shop('n3')).toEqual([{ address: '10.0.0.1:30001', local: false }, { address: '10.0.0.2:30002', local: false }]);
  });

  it('keeps a route with no healthy upstream (503, not a fall-through)', () => {
    expect(out.get('n1')!.routes.find((r) => r.appId === 'app_api')).toEqual({ hostname: 'api.eu.apps.karvon.io', appId: 'app_api', tls: false, upstreams: [] });
  });

  it('turns TLS on where a certificate covers the name and ships only the certificates routed names need', () => {
    const r = out.get('n2')!;
    expect(r.routes.filter((x) => x.tls).map((x) => x.hostname)).toEqual(['shop.example.com']);
    expect(r.certificates.map((c) => c.id)).toEqual(['cert_shop']);
  });

  it('drops hostnames that are not plain DNS names, and a name claimed twice keeps its first app', () => {
    const evil: RoutedApp = { appId: 'app_zz', systemHostname: 'zz.eu.apps.karvon.io', customHostnames: ['a.com`) || Host(`b.com', '*.example.com', 'Upper.Example.com', 'shop.example.com'], upstreams: [{ nodeId: 'n1', address: 'bad address' }] };
    const r = routingForNodes({ nodeIds: ['n1'], apps: [web, evil], certificates: [] }).get('n1')!;
    expect(r.routes.map((x) => `${x.hostname}→${x.appId}`)).toEqual(['shop.example.com→app_web', 'web.eu.apps.karvon.io→app_web', 'zz.eu.apps.karvon.io→app_zz']);
    expect(r.routes.find((x) => x.appId === 'app_zz')!.upstreams).toEqual([]);
  });

  it('gives no node anything when the region has no apps', () => {
    expect(routingForNodes({ nodeIds: ['n1'], apps: [], certificates: [cert('c', ['x.example.com'])] }).get('n1')).toEqual({ routes: [], certificates: [] });
  });
});

describe('certificateCovers', () => {
  it.each([
    [['shop.example.com'], 'shop.example.com', true],
    [['*.eu.apps.karvon.io'], 'web.eu.apps.karvon.io', true],
    [['*.eu.apps.karvon.io'], 'a.web.eu.apps.karvon.io', false],
    [['*.eu.apps.karvon.io'], 'eu.apps.karvon.io', false],
    [['shop.example.com'], 'www.shop.example.com', false],
  ])('%j covers %s: %s', (names, host, covered) => {
    expect(certificateCovers(names, host)).toBe(covered);
  });
});
