import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/free-port';
import { createHealthMonitor } from './health-monitor';
import { allocation, containerFor, T0 } from './testing';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server answering /healthz with 200 and counting the probes. */
async function app(): Promise<{ port: number; probes: () => number; server: http.Server }> {
  let probes = 0;
  const server = http.createServer((req, res) => {
    probes += 1;
    res.statusCode = req.url === '/healthz' ? 200 : 404;
    res.end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, probes: () => probes, server };
}


describe('probing starting replicas between passes', () => {
  it('finds a starting replica that answers, and the next check within the interval reuses that answer', async () => {
    const monitor = createHealthMonitor('127.0.0.1');
    const served = await app();
    const c = containerFor(allocation('al_1'), { hostPort: served.port });
    expect(await monitor.probeStarting([c], () => false, T0)).toBe(true);
    expect(served.probes()).toBe(1);
    const checked = await monitor.check([c], () => false, T0 + 100);
    expect(checked.get(c.id)).toEqual({ ok: true });
    expect(served.probes()).toBe(1);
  });

  it('leaves alone replicas that were healthy before, stopped ones and those not answering yet', async () => {
    const monitor = createHealthMonitor('127.0.0.1');
    const served = await app();
    const healthyBefore = containerFor(allocation('al_1'), { hostPort: served.port });
    const stopped = containerFor(allocation('al_2'), { hostPort: served.port, state: 'exited' });
    const silent = containerFor(allocation('al_3'), { hostPort: await freePort() });
    expect(await monitor.probeStarting([healthyBefore, stopped, silent], (x) => x.id === healthyBefore.id, T0)).toBe(false);
    expect(served.probes()).toBe(0);
    // A failure is not remembered: the pass probes again.
    const checked = await monitor.check([silent], () => false, T0 + 100);
    expect(checked.get(silent.id)?.ok).toBe(false);
  });
});
