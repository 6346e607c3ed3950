import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/free-port';
import { probe } from './health-probe';

const servers: Array<http.Server | net.Server> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen<T extends http.Server | net.Server>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}


describe('probe', () => {
  it('passes an HTTP check on 2xx/3xx and fails it on 5xx, naming the status', async () => {
    const port = await listen(http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : req.url === '/moved' ? 302 : 503;
      res.end();
    }));
    const target = { host: '127.0.0.1', port };
    expect(await probe({ type: 'http', path: '/healthz' }, target)).toEqual({ ok: true });
    expect(await probe({ type: 'http', path: '/moved' }, target)).toEqual({ ok: true });
    expect(await probe({ type: 'http', path: '/down' }, target)).toEqual({ ok: false, error: 'GET /down answered 503' });
  });

  it('fails an HTTP check that times out or finds nobody listening', async () => {
    const port = await listen(http.createServer(() => undefined));
    const slow = await probe({ type: 'http', path: '/', timeoutMs: 150 }, { host: '127.0.0.1', port });
    expect(slow).toEqual({ ok: false, error: 'GET /: no answer within 150 ms' });
    const refused = await probe({ type: 'http', path: '/' }, { host: '127.0.0.1', port: await freePort() });
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/ECONNREFUSED/);
  });

  it('passes a TCP check when a connection is accepted, and fails it otherwise', async () => {
    const port = await listen(net.createServer((s) => s.end()));
    expect(await probe({ type: 'tcp' }, { host: '127.0.0.1', port })).toEqual({ ok: true });
    expect((await probe({ type: 'tcp' }, { host: '127.0.0.1', port: await freePort() })).ok).toBe(false);
  });
});
