// With the production heartbeat (here 60 s, longer than the test), a replica that turns healthy is
// known to the control plane, routed and written into every node's proxy config within seconds:
// the agent reports a change of allocation state at once (runtime/status-change.ts,
// connection/early-report.ts) instead of at its next heartbeat.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { registrationToken } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { createAppFixture } from '../../../test/fixtures';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';
import { removeNodeObjects, testPortRange } from './runtime-fixtures';

const REGION = 'early-1';
const HEARTBEAT_SECONDS = 60;
const bin = nodeBin('apps/agent/bin/karvon-agent.js');

await describeDocker('early status report', () => {
  let docker: Docker;
  let cp: TestControlPlane;
  let stateDir = '';
  let nodeId = '';
  let agent: RunningProcess;
  const range = testPortRange();

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS), KARVON_APPS_DOMAIN: 'apps.karvon.io', KARVON_NODE_GRACE_SECONDS: '600', KARVON_DEGRADED_PERCENT: '100' });
    const admin = await cp.adminClient();
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-early-'));
    const token = await registrationToken(admin, REGION);
    const reg = startProcess(bin.file, [...bin.args, 'register', '--control-plane', cp.url, '--token', token, '--state-dir', stateDir, '--name', 'early'], {});
    expect(await reg.exited, reg.output()).toBe(0);
    nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
    agent = startProcess(bin.file, [...bin.args, 'run', '--state-dir', stateDir], {
      KARVON_LOG_LEVEL: 'info',
      KARVON_ADVERTISE_ADDR: '127.0.0.1',
      KARVON_PORT_RANGE: `${range.min}-${range.max}`,
      KARVON_DRAIN_SECONDS: '0',
      KARVON_TENANT_FIREWALL: 'false',
    });
    await eventually(() => expect(cp.hub.sessionGeneration(nodeId), agent.output().slice(-3000)).toBeDefined(), 20_000);
  });

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await agent?.exited;
    if (docker && nodeId) await removeNodeObjects(docker, nodeId);
    await cp?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
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
        const config = parseYaml(await readFile(path.join(stateDir, 'proxy', 'karvon.yml'), 'utf8')) as { http?: { services?: Record<string, { loadBalancer?: { servers: Array<{ url: string }> } }> } };
        const urls = Object.values(config.http?.services ?? {}).flatMap((s) => s.loadBalancer?.servers.map((x) => x.url) ?? []);
        expect(urls, `${JSON.stringify(config)}\n${agent.output().slice(-4000)}`).toContain(`http://${row.upstream}`);
      },
      15_000,
      250,
    );
    expect(agent.output()).not.toMatch(/reconcile pass failed/);
  });
});
