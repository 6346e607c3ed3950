// Tenant isolation, tested from inside a tenant container: no Docker socket, no connection to
// another tenant's container, none to ports the host listens on (the agent, the control plane,
// which binds 0.0.0.0 by default). A container on Docker's default bridge is the control: it
// reaches the same host port, so a closed answer means the rule works, not that the probe is broken.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureTenantFirewall } from '../src/runtime/host-firewall';
import { createRuntime, type Runtime } from '../src/runtime/runtime';
import { ensureBaseImages, NODE_IMAGE } from '../../../test/docker/base-images';
import { demuxDockerLogs } from '../../../test/docker/containers';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { buildFixtureImages, execIn, fixtureAllocation, removeNodeObjects, testPortRange } from './runtime-fixtures';

const nodeId = `node-iso-${randomUUID().slice(0, 8)}`;
const tenantA = fixtureAllocation('alloc-iso-a', 'node-hello', { appId: 'app_a', tenantId: 'usr_a' });
const tenantB = fixtureAllocation('alloc-iso-b', 'node-hello', { appId: 'app_b', tenantId: 'usr_b', env: { GREETING: 'tenant b secret' } });

/**
 * argv for node inside the container (the image's own runtime; static busybox's wget crashes
 * here): GETs every URL at once and prints "open URL" when any HTTP answer came back, else
 * "closed URL" (refused, unreachable or dropped: no answer within 3 s).
 */
const PROBE = `
const http = require('node:http');
for (const u of process.argv.slice(1)) {
  const req = http.get(u, { timeout: 3000 }, (res) => { res.resume(); console.log('open ' + u); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => console.log('closed ' + u));
}`;
const probeAll = (urls: string[]) => ['node', '-e', PROBE, ...urls];

const parse = (output: string): Record<string, string> =>
  Object.fromEntries(output.trim().split('\n').map((l): [string, string] => [l.split(' ')[1] ?? '', l.split(' ')[0] ?? '']));

await describeDocker('tenant isolation', () => {
  let docker: Docker;
  let runtime: Runtime;
  let stateDir: string;
  let hostServer: http.Server;
  let control: Docker.Container | undefined;

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildFixtureImages(docker);
    await ensureTenantFirewall();
    // Stands for the control plane or the agent: bound on every host address.
    hostServer = http.createServer((_req, res) => res.end('host only'));
    await new Promise<void>((r) => hostServer.listen(0, '0.0.0.0', r));
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-isolation-'));
    runtime = createRuntime({
      docker, nodeId, stateDir, advertiseAddr: '127.0.0.1', portRange: testPortRange(), healthDeadlineMs: 20_000, drainMs: 0,
      logger: pino({ level: 'silent' }), busyIntervalMs: 200,
    });
    await runtime.load();
    runtime.setDesired([tenantA, tenantB]);
    runtime.start();
    await eventually(() => expect(runtime.statuses().map((s) => s.state)).toEqual(['healthy', 'healthy']), 20_000, 100);
  });

  afterAll(async () => {
    await runtime?.stop();
    if (docker) {
      await removeNodeObjects(docker, nodeId);
      await control?.remove({ force: true }).catch(() => undefined);
    }
    await new Promise((r) => (hostServer ? hostServer.close(r) : r(undefined)));
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('keeps a tenant away from the Docker socket, other tenants and host ports', async () => {
    const inspect = async (alloc: typeof tenantA) => {
      const [c] = await docker.listContainers({ filters: { label: [`karvon.node=${nodeId}`, `karvon.allocation=${alloc.id}`] } });
      return docker.getContainer(c!.Id).inspect();
    };
    const [a, b] = await Promise.all([inspect(tenantA), inspect(tenantB)]);
    const netA = Object.values(a.NetworkSettings.Networks)[0]!;
    const netB = Object.values(b.NetworkSettings.Networks)[0]!;
    expect(netA.NetworkID).not.toBe(netB.NetworkID);
    const hostPort = (hostServer.address() as AddressInfo).port;
    const bPublished = (b.HostConfig.PortBindings as Record<string, Array<{ HostPort: string }>>)['3000/tcp']?.[0]?.HostPort;
    const bridge = (await docker.getNetwork('bridge').inspect()) as { IPAM: { Config: Array<{ Gateway?: string }> } };
    const docker0 = bridge.IPAM.Config[0]?.Gateway ?? '172.17.0.1';

    const targets = {
      own: 'http://127.0.0.1:3000/healthz',
      otherTenant: `http://${netB.IPAddress}:3000/`,
      otherTenantPublished: `http://127.0.0.1:${bPublished}/`,
      hostViaOwnGateway: `http://${netA.Gateway}:${hostPort}/`,
      hostViaOtherGateway: `http://${netB.Gateway}:${hostPort}/`,
      hostViaDocker0: `http://${docker0}:${hostPort}/`,
    };
    const fromA = parse((await execIn(docker, a.Id, probeAll(Object.values(targets)))).output);
    expect(Object.fromEntries(Object.entries(targets).map(([k, u]) => [k, fromA[u]]))).toEqual({
      own: 'open',
      otherTenant: 'closed',
      otherTenantPublished: 'closed',
      hostViaOwnGateway: 'closed',
      hostViaOtherGateway: 'closed',
      hostViaDocker0: 'closed',
    });
    const fromB = parse((await execIn(docker, b.Id, probeAll([`http://${netA.IPAddress}:3000/`]))).output);
    expect(fromB[`http://${netA.IPAddress}:3000/`]).toBe('closed');
    const sock = await execIn(docker, a.Id, ['sh', '-c', 'ls /var/run/docker.sock /run/docker.sock 2>&1; find / -name "docker.sock*" 2>/dev/null']);
    expect(sock.output).toMatch(/\/var\/run\/docker\.sock: No such file or directory/);
    expect(sock.output).not.toMatch(/^\/.*docker\.sock$/m);

    // The control: the same host port from Docker's default bridge answers.
    control = await docker.createContainer({ Image: NODE_IMAGE, Cmd: probeAll([`http://${docker0}:${hostPort}/`]), Labels: { 'karvon.test.run': nodeId } });
    await control.start();
    await control.wait();
    const logs = demuxDockerLogs(await control.logs({ stdout: true, stderr: true }));
    expect(logs.stdout.trim()).toBe(`open http://${docker0}:${hostPort}/`);
  });
});
