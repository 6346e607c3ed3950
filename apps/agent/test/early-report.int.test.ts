// With the production heartbeat (here 60 s, longer than the test), a replica that turns healthy is
// known to the control plane, routed and written into every node's proxy config within seconds:
// the agent reports a change of allocation state at once (runtime/status-change.ts,
// connection/early-report.ts) instead of at its next heartbeat.
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

const REGION = 'early-1';
const HEARTBEAT_SECONDS = 60;

await describeDocker('early status report', () => {
  let docker: Docker;
  let cp: TestControlPlane;
  let agent: RealAgent;

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS), KARVON_APPS_DOMAIN: 'apps.karvon.io', KARVON_NODE_GRACE_SECONDS: '600', KARVON_DEGRADED_PERCENT: '100' });
    agent = await startRealAgent({ controlPlaneUrl: cp.url, admin: await cp.adminClient(), docker, region: REGION, name: 'early', env: { KARVON_TENANT_FIREWALL: 'false' } });
    await eventually(() => expect(cp.hub.sessionGeneration(agent.nodeId), agent.proc.output().slice(-3000)).toBeDefined(), 20_000);
  });

  afterAll(async () => {
    await agent?.stop();
    await cp?.stop();
  });

  it('a replica that turns healthy is known, routed and in the proxy config long before the next heartbeat', async () => {
    const welcomedAt = Date.now();
    const app = await createAppFixture(cp.db, REGION);
    await cp.db('apps').where({ id: app.appId }).update({ current_release_id: app.releaseId });
    const placed = await cp.planner.placeReplicas({
      appId: app.appId,
      releaseId: app.releaseId,
      region: REGION,
      resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 },
      replicas: 1,
      spec: { ...app.spec, command: ['httpd', '-f', '-p', '8080', '-h', '/tmp'] },
    });
    if (!placed.ok) throw new Error('placement failed');
    const allocationId = placed.allocations[0]!.id;
    // The agent's first heartbeat went out at its welcome; the next one is HEARTBEAT_SECONDS later.
    const deadline = HEARTBEAT_SECONDS * 1000 - 15_000;
    const row = await eventually(
      async () => {
        const r = await cp.db('allocations').where({ id: allocationId }).first<{ actual_status: string; upstream: string | null }>('actual_status', 'upstream');
        expect(r?.actual_status).toBe('healthy');
        expect(r?.upstream).toMatch(/^127\.0\.0\.1:\d+$/);
        return r;
      },
      deadline,
      250,
    );
    expect(Date.now() - welcomedAt).toBeLessThan(HEARTBEAT_SECONDS * 1000);
    // The route reaches the node's proxy config (Traefik file provider), pointing at that upstream.
    await eventually(
      async () => {
        const config = parseYaml(await readFile(path.join(agent.stateDir, 'proxy', 'karvon.yml'), 'utf8')) as { http?: { services?: Record<string, { loadBalancer?: { servers: Array<{ url: string }> } }> } };
        const urls = Object.values(config.http?.services ?? {}).flatMap((s) => s.loadBalancer?.servers.map((x) => x.url) ?? []);
        expect(urls, `${JSON.stringify(config)}\n${agent.proc.output().slice(-4000)}`).toContain(`http://${row.upstream}`);
      },
      15_000,
      250,
    );
    expect(agent.proc.output()).not.toMatch(/reconcile pass failed/);
  });
});
