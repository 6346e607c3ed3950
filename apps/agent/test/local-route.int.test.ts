// A replica joins its own node's proxy config as soon as that node's agent finds it healthy, not
// after a round trip through the control plane (routing/local-upstreams.ts): here the control
// plane is stopped once the agent has recorded the desired state, before the replica listens, and
// the route still gains its upstream, which answers.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { createAppFixture } from '../../../test/fixtures';
import { startRealAgent, type RealAgent } from './real-agent';

const REGION = 'local-route-1';
const APPS_DOMAIN = 'apps.karvon.io';

interface ProxyConfig {
  http?: { routers?: Record<string, { rule: string; service: string }>; services?: Record<string, { loadBalancer?: { servers: Array<{ url: string }> } }> };
}

await describeDocker('local route on health', () => {
  let docker: Docker;
  let cp: TestControlPlane | undefined;
  let agent: RealAgent;

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: '60', KARVON_APPS_DOMAIN: APPS_DOMAIN, KARVON_NODE_GRACE_SECONDS: '600', KARVON_DEGRADED_PERCENT: '100' });
    agent = await startRealAgent({ controlPlaneUrl: cp.url, admin: await cp.adminClient(), docker, region: REGION, name: 'local-route', env: { KARVON_TENANT_FIREWALL: 'false' } });
    const plane = cp;
    await eventually(() => expect(plane.hub.sessionGeneration(agent.nodeId), agent.proc.output().slice(-3000)).toBeDefined(), 20_000);
  });

  afterAll(async () => {
    await agent?.stop();
    await cp?.stop();
  });

  it('routes a replica that turns healthy while the control plane is gone', async () => {
    const plane = cp!;
    const app = await createAppFixture(plane.db, REGION);
    await plane.db('apps').where({ id: app.appId }).update({ current_release_id: app.releaseId });
    const name = (await plane.db('apps').where({ id: app.appId }).first<{ name: string }>('name')).name;
    const hostname = `${name}.${REGION}.${APPS_DOMAIN}`;
    // Listens 4 s after it starts: long enough to stop the control plane first.
    const placed = await plane.planner.placeReplicas({
      appId: app.appId,
      releaseId: app.releaseId,
      region: REGION,
      resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 },
      replicas: 1,
      spec: { ...app.spec, command: ['sh', '-c', 'mkdir -p /tmp/www && echo local-route-ok > /tmp/www/index.html && sleep 4 && exec httpd -f -p 8080 -h /tmp/www'] },
    });
    if (!placed.ok) throw new Error('placement failed');
    const allocationId = placed.allocations[0]!.id;
    const configFile = path.join(agent.stateDir, 'proxy', 'karvon.yml');
    const appServers = async () => {
      const config = parseYaml(await readFile(configFile, 'utf8')) as ProxyConfig;
      const router = Object.values(config.http?.routers ?? {}).find((r) => r.rule === `Host(\`${hostname}\`)`);
      return router ? (config.http?.services?.[router.service]?.loadBalancer?.servers.map((s) => s.url) ?? []) : undefined;
    };
    // The agent has the allocation and the app's route, which has no upstream yet (503 from the agent).
    await eventually(async () => {
      const desired = JSON.parse(await readFile(path.join(agent.stateDir, 'desired-state.json'), 'utf8')) as { allocations: Array<{ id: string }> };
      expect(desired.allocations.map((a) => a.id)).toContain(allocationId);
      expect(await appServers(), agent.proc.output().slice(-3000)).toHaveLength(1);
    }, 15_000);
    const before = await appServers();
    const statusThen = await plane.db('allocations').where({ id: allocationId }).first<{ actual_status: string | null }>('actual_status');
    expect(statusThen?.actual_status).not.toBe('healthy');
    await plane.stop();
    cp = undefined;

    const servers = await eventually(
      async () => {
        const s = await appServers();
        expect(s, agent.proc.output().slice(-3000)).not.toEqual(before);
        return s!;
      },
      30_000,
      100,
    );
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const body = await fetch(`${servers[0]}/index.html`).then((r) => r.text());
    expect(body.trim()).toBe('local-route-ok');
  });
});
