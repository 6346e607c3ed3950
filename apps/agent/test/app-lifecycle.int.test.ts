// The customer's whole path through the public API, against a real control plane, PostgreSQL, a
// real agent process and the Docker engine: register, create a project and an image app (a
// locally built image), deploy, see it answer on its upstream, change an env var and see the new
// value served, scale to 3 and back to 1, roll back, stop, start, read its logs, delete.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { registrationToken } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';
import { buildFixtureImages, fetchText, imageOf, removeNodeObjects, testPortRange } from './runtime-fixtures';

const REGION = 'life-1';
const bin = nodeBin('apps/agent/bin/karvon-agent.js');

interface Instance {
  id: string;
  status: string;
  upstream: string | null;
  release: number | null;
}
interface Deploy {
  id: string;
  status: string;
  releaseNumber?: number;
  error?: { code: string; message: string };
}

await describeDocker('an app through the customer API', () => {
  let docker: Docker;
  let cp: TestControlPlane;
  let admin: ApiClient;
  let stateDir: string;
  let nodeId = '';
  let customer: Customer;
  let appId = '';
  const procs: RunningProcess[] = [];
  const range = testPortRange();

  const api = () => customer.api;
  const instances = async () => (await api().get<{ items: Instance[] }>(`/api/v1/apps/${appId}/instances`)).body.items;
  /** the deploy once finished; a failure shows its coded error in the assertion */
  const waitForDeploy = async (d: Deploy): Promise<Deploy> => {
    const done = await eventually(async () => {
      const got = (await api().get<Deploy>(`/api/v1/deploys/${d.id}`)).body;
      expect(['succeeded', 'failed', 'cancelled']).toContain(got.status);
      return got;
    }, 90_000);
    expect(done.error).toBeUndefined();
    return done;
  };
  /** every listed instance healthy, `n` of them, each answering with `greeting` on its upstream */
  const serving = (n: number, greeting: string) =>
    eventually(async () => {
      const list = await instances();
      expect(list.map((i) => i.status)).toEqual(Array(n).fill('healthy'));
      for (const i of list) expect(JSON.parse(await fetchText(`http://${i.upstream}/`))).toMatchObject({ greeting, uid: 1000 });
      return list;
    }, 60_000);

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildFixtureImages(docker);
    cp = await startTestControlPlane({
      KARVON_HEARTBEAT_SECONDS: '1',
      KARVON_NODE_GRACE_SECONDS: '30',
      KARVON_ROLLOUT_TIMEOUT_SECONDS: '120',
      // The tests saturate this machine's CPU: the real agent's usage must not make its node degraded.
      KARVON_DEGRADED_PERCENT: '100',
      KARVON_MUTATIONS_PER_MINUTE: '10000',
      KARVON_MUTATION_BURST: '10000',
    });
    admin = await cp.adminClient();
    await ensureCatalog(admin, REGION);
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-lifecycle-'));
    const token = await registrationToken(admin, REGION);
    const reg = startProcess(bin.file, [...bin.args, 'register', '--control-plane', cp.url, '--token', token, '--state-dir', stateDir, '--name', 'lifecycle'], {});
    expect(await reg.exited, reg.output()).toBe(0);
    nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
    procs.push(
      startProcess(bin.file, [...bin.args, 'run', '--state-dir', stateDir], {
        KARVON_LOG_LEVEL: 'info',
        KARVON_ADVERTISE_ADDR: '127.0.0.1',
        KARVON_PORT_RANGE: `${range.min}-${range.max}`,
        KARVON_DRAIN_SECONDS: '0',
      }),
    );
    await eventually(() => expect(cp.hub.sessionGeneration(nodeId)).toBeDefined(), 15_000);
    customer = await registerCustomer(cp.api, 'lifecycle', { admin, tier: 'standard' });
  });

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    if (docker && nodeId) await removeNodeObjects(docker, nodeId);
    await cp?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('deploys, reconfigures, scales, rolls back, stops, starts, logs and deletes', async () => {
    const project = await api().post<{ id: string }>('/api/v1/projects', { name: 'shop' });
    expect(project.status).toBe(201);
    const created = await api().post<{ id: string; hostname: string }>('/api/v1/apps', {
      projectId: project.body.id,
      name: 'hello',
      region: REGION,
      planId: 'small',
      source: { type: 'image', image: imageOf('node-hello') },
      port: 3000,
      healthCheck: { type: 'http', path: '/healthz' },
    });
    expect(created.status).toBe(201);
    expect(created.body.hostname).toBe(`hello.${REGION}.apps.localhost`);
    appId = created.body.id;

    // Deploy: release 1, health-gated, answering on its upstream.
    const first = await api().post<Deploy>(`/api/v1/apps/${appId}/deploys`, {});
    expect(first.status).toBe(202);
    expect(await waitForDeploy(first.body)).toMatchObject({ status: 'succeeded', releaseNumber: 1 });
    const [v1] = await serving(1, 'hello from karvon');
    expect(v1!.release).toBe(1);

    // An env change is a new release rolled out: the new value is served, the old replica goes.
    const env = await api().patch<{ release: number; deploy: Deploy }>(`/api/v1/apps/${appId}/env`, { set: { GREETING: 'salom' } });
    expect(env.status).toBe(200);
    expect(env.body.release).toBe(2);
    expect(await waitForDeploy(env.body.deploy)).toMatchObject({ status: 'succeeded', releaseNumber: 2 });
    const [v2] = await serving(1, 'salom');
    expect(v2!.id).not.toBe(v1!.id);
    expect(v2!.release).toBe(2);
    // At rest the value is sealed, in the env table and in the allocation the node runs.
    const rows = await cp.db('allocations').where({ app_id: appId }).select<Array<{ spec: unknown }>>('spec');
    expect(JSON.stringify(rows)).not.toContain('salom');

    // Scale to 3 and back to 1.
    expect((await api().post(`/api/v1/apps/${appId}/scale`, { replicas: 3 })).status).toBe(202);
    await serving(3, 'salom');
    expect((await api().post(`/api/v1/apps/${appId}/scale`, { replicas: 1 })).status).toBe(202);
    await serving(1, 'salom');
    await eventually(async () => expect(await docker.listContainers({ filters: { label: [`karvon.app=${appId}`] } })).toHaveLength(1), 30_000);

    // Roll back to release 1: a new release 3 with release 1's image and env.
    const back = await api().post<Deploy>(`/api/v1/apps/${appId}/rollback`, { release: 1 });
    expect(back.status).toBe(202);
    expect(await waitForDeploy(back.body)).toMatchObject({ status: 'succeeded', releaseNumber: 3 });
    await serving(1, 'hello from karvon');
    const releases = await api().get<{ items: Array<{ number: number; current: boolean }> }>(`/api/v1/apps/${appId}/releases`);
    expect(releases.body.items.map((r) => [r.number, r.current])).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);

    // Stop keeps the container but stops it; start brings it back.
    expect((await api().post(`/api/v1/apps/${appId}/stop`)).status).toBe(202);
    await eventually(async () => {
      expect((await instances()).map((i) => i.status)).toEqual(['stopped']);
      expect(await docker.listContainers({ filters: { label: [`karvon.app=${appId}`] } })).toHaveLength(0);
    }, 60_000);
    expect((await api().get<{ status: string }>(`/api/v1/apps/${appId}`)).body.status).toBe('stopped');
    expect((await api().post(`/api/v1/apps/${appId}/start`)).status).toBe(202);
    await serving(1, 'hello from karvon');

    // Runtime logs of every instance, as SSE, tagged by instance.
    const [running] = await instances();
    const logs = await api().fetch(`/api/v1/apps/${appId}/logs?tail=20`);
    expect(logs.headers.get('content-type')).toContain('text/event-stream');
    const text = await logs.text();
    expect(text).toContain('event: log');
    expect(text).toContain(`"instance":"${running!.id}"`);
    expect(text).toContain('listening on 3000');
    expect(text).toContain('event: end');

    // Delete: 202, then the record shows progress until the containers are gone.
    const del = await api().delete<{ status: string }>(`/api/v1/apps/${appId}`);
    expect(del.status).toBe(202);
    expect(del.body.status).toBe('deleting');
    await eventually(async () => {
      expect((await api().get(`/api/v1/apps/${appId}`)).status).toBe(404);
      expect(await docker.listContainers({ all: true, filters: { label: [`karvon.app=${appId}`] } })).toHaveLength(0);
    }, 60_000);
    expect(await cp.db('env_vars').where({ app_id: appId })).toEqual([]);
  });
});

