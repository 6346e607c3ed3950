// The runtime inside a real agent process, fed by a real control plane: a placement becomes a
// running container, and `kill -9` of the agent then a restart leaves the container untouched
// (same container, same start time, same port, serving throughout) and re-adopted.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registrationToken } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { createAppFixture } from '../../../test/fixtures';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';
import { buildFixtureImages, fetchText, imageOf, removeNodeObjects, testPortRange } from './runtime-fixtures';

const REGION = 'runtime-1';
const bin = nodeBin('apps/agent/bin/karvon-agent.js');

await describeDocker('agent runtime process', () => {
  let docker: Docker;
  let cp: TestControlPlane;
  let stateDir: string;
  let nodeId = '';
  let agent: RunningProcess;
  const procs: RunningProcess[] = [];
  const range = testPortRange();

  const runAgent = () => {
    const p = startProcess(bin.file, [...bin.args, 'run', '--state-dir', stateDir], {
      KARVON_LOG_LEVEL: 'info',
      KARVON_ADVERTISE_ADDR: '127.0.0.1',
      KARVON_PORT_RANGE: `${range.min}-${range.max}`,
      KARVON_DRAIN_SECONDS: '0',
    });
    procs.push(p);
    return p;
  };
  const ownContainers = () => docker.listContainers({ all: true, filters: { label: [`karvon.node=${nodeId}`] } });

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildFixtureImages(docker);
    cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: '1', KARVON_NODE_GRACE_SECONDS: '30', KARVON_DEGRADED_PERCENT: '100' });
    const admin = await cp.adminClient();
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-runtime-agent-'));
    const token = await registrationToken(admin, REGION);
    const reg = startProcess(bin.file, [...bin.args, 'register', '--control-plane', cp.url, '--token', token, '--state-dir', stateDir, '--name', 'runtime'], {});
    expect(await reg.exited, reg.output()).toBe(0);
    nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
    agent = runAgent();
    await eventually(() => expect(cp.hub.sessionGeneration(nodeId)).toBeDefined(), 15_000);
  });

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    if (docker && nodeId) await removeNodeObjects(docker, nodeId);
    await cp?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('runs a placed allocation, and a kill -9 and restart of the agent leaves it running and re-adopted', async () => {
    const app = await createAppFixture(cp.db, REGION);
    const spec = { ...app.spec, image: imageOf('node-hello'), port: 3000, healthCheck: { type: 'http' as const, path: '/healthz' } };
    const placed = await cp.planner.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: REGION, resources: { cpuMillicores: 250, memoryMb: 128, diskMb: 10 }, replicas: 1, spec });
    expect(placed.ok).toBe(true);
    await agent.waitForOutput(/allocation healthy/, 30_000);
    const [listed] = await ownContainers();
    const before = await docker.getContainer(listed!.Id).inspect();
    const bindings = before.HostConfig.PortBindings as Record<string, Array<{ HostPort: string }>>;
    const hostPort = bindings['3000/tcp']?.[0]?.HostPort;
    const url = `http://127.0.0.1:${hostPort}/`;
    expect(JSON.parse(await fetchText(url))).toMatchObject({ greeting: 'hi', uid: 1000 });

    agent.kill('SIGKILL');
    await agent.exited;
    expect((await docker.getContainer(before.Id).inspect()).State.Running).toBe(true);
    agent = runAgent();
    await agent.waitForOutput(/adopted existing containers/, 20_000);
    await agent.waitForOutput(/desired state recorded/, 20_000);
    // Several passes of the restarted agent, the app answering all along.
    for (let i = 0; i < 6; i++) {
      expect(await fetchText(url)).toContain('"greeting":"hi"');
      await new Promise((r) => setTimeout(r, 500));
    }
    const after = await docker.getContainer(before.Id).inspect();
    expect([after.State.Running, after.State.StartedAt, after.RestartCount]).toEqual([true, before.State.StartedAt, 0]);
    expect((await ownContainers()).map((c) => c.Id)).toEqual([before.Id]);
    expect(agent.output()).not.toMatch(/"msg":"runtime action"/);
    expect(agent.output()).not.toMatch(/container started/);
  });
});
