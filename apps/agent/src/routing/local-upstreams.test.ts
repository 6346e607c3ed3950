import { describe, expect, it } from 'vitest';
import type { Route } from '@karvon/protocol';
import { routableUpstreams, withLocalUpstreams } from './local-upstreams';

const route = (appId: string, addresses: string[], hostname = `${appId}.example.com`): Route => ({
  hostname,
  appId,
  tls: true,
  upstreams: addresses.map((address) => ({ address, local: false })),
});
const alloc = (id: string, appId: string, desiredStatus: 'running' | 'stopped' = 'running') => ({ id, appId, desiredStatus });

describe('routable upstreams', () => {
  it('keeps the allocations that carry an upstream, by id', () => {
    expect(
      routableUpstreams([
        { allocationId: 'a1', upstream: '10.0.0.5:20001' },
        { allocationId: 'a2' },
        { allocationId: 'a3', upstream: '10.0.0.5:20003' },
      ]),
    ).toEqual(
      new Map([
        ['a1', '10.0.0.5:20001'],
        ['a3', '10.0.0.5:20003'],
      ]),
    );
  });
});

describe('local upstreams joining routes', () => {
  it('adds a healthy desired replica to every route of its app, once, as local', () => {
    const routes = [route('app_a', ['10.0.0.9:20000']), route('app_a', [], 'www.shop.example'), route('app_b', ['10.0.0.9:20010'])];
    const out = withLocalUpstreams(routes, [alloc('a1', 'app_a'), alloc('b1', 'app_b')], new Map([['a1', '10.0.0.5:20001']]));
    expect(out[0]!.upstreams).toEqual([
      { address: '10.0.0.9:20000', local: false },
      { address: '10.0.0.5:20001', local: true },
    ]);
    expect(out[1]!.upstreams).toEqual([{ address: '10.0.0.5:20001', local: true }]);
    // b1 has no upstream yet (starting): its app's route is what the control plane sent.
    expect(out[2]).toBe(routes[2]);
  });

  it('leaves an address the control plane already routes as it is (no duplicate)', () => {
    const routes = [{ ...route('app_a', []), upstreams: [{ address: '10.0.0.5:20001', local: true }] }];
    expect(withLocalUpstreams(routes, [alloc('a1', 'app_a')], new Map([['a1', '10.0.0.5:20001']]))[0]).toBe(routes[0]);
  });

  it('adds nothing for an allocation not desired here, desired stopped, or of an app without a route', () => {
    const routes = [route('app_a', ['10.0.0.9:20000'])];
    const routable = new Map([
      ['gone', '10.0.0.5:20001'],
      ['stopped', '10.0.0.5:20002'],
      ['other', '10.0.0.5:20003'],
    ]);
    const out = withLocalUpstreams(routes, [alloc('stopped', 'app_a', 'stopped'), alloc('other', 'app_unrouted')], routable);
    expect(out).toEqual(routes);
    // No route is invented for the unrouted app: its hostname is the control plane's to give.
    expect(out.map((r) => r.appId)).toEqual(['app_a']);
  });

  it('never grows a route past the protocol limit of upstreams', () => {
    const full = route(
      'app_a',
      Array.from({ length: 100 }, (_, i) => `10.0.1.${i}:20000`),
    );
    expect(withLocalUpstreams([full], [alloc('a1', 'app_a')], new Map([['a1', '10.0.0.5:20001']]))[0]!.upstreams).toHaveLength(100);
  });

  it('leaves a malformed route for the renderer to refuse', () => {
    const bad = { hostname: 'x.example.com', appId: 'app_a', tls: false, upstreams: 'nope' } as unknown as Route;
    expect(withLocalUpstreams([bad], [alloc('a1', 'app_a')], new Map([['a1', '10.0.0.5:20001']]))).toEqual([bad]);
  });
});
