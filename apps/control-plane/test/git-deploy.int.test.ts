// A git deploy's build stage on the control plane, over the real agent protocol: a raw agent
// (test/agents.ts) plays the builder — it receives the `build` task, streams progress and answers
// with the image — then reports the replica healthy. The agent's own build (git, buildpacks,
// docker build) is tested in apps/agent/test/build.int.test.ts.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { agentToken, connectRawAgent, registerNode, sampleHeartbeat, type RawAgent } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { newId } from '../src/db/ids';

const REGION = 'git-1';
const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);

interface Deploy {
  id: string;
  status: string;
  commitSha?: string;
  releaseNumber?: number;
  error?: { code: string; message: string };
  phases: Array<{ name: string }>;
}

let cp: TestControlPlane;
let customer: Customer;
let agent: RawAgent;
let appId: string;

async function finished(id: string): Promise<Deploy> {
  return eventually(async () => {
    const d = (await customer.api.get<Deploy>(`/api/v1/deploys/${id}`)).body;
    expect(['succeeded', 'failed', 'cancelled']).toContain(d.status);
    return d;
  }, 20_000);
}

/** Answers the next build task like a builder would; returns the task. */
async function build(outcome: { ok: true; lines: string[] } | { ok: false; code: string; message: string }) {
  const task = await agent.nextFrame('task', 10_000);
  const payload = task.payload as { id: string; kind: string; payload: { buildId: string; appId: string; image: string; registry: string | null; source: { commitSha?: string; branch?: string } } };
  expect(payload.kind).toBe('build');
  agent.send('task-ack', { taskId: payload.id, duplicate: false });
  if (outcome.ok) {
    agent.send('task-progress', { taskId: payload.id, seq: 0, phase: 'build', lines: outcome.lines });
    agent.send('task-result', { taskId: payload.id, status: 'succeeded', result: { image: payload.payload.image, commitSha: payload.payload.source.commitSha ?? SHA1 } });
  } else {
    agent.send('task-result', { taskId: payload.id, status: 'failed', error: { code: outcome.code, message: outcome.message } });
  }
  return payload;
}

/** Acks every desired state and reports its allocations healthy, like a converged agent. */
async function converge(): Promise<void> {
  let payload: { generation: number; allocations: Array<{ id: string; image: string }> };
  do {
    payload = (await agent.nextFrame('desired-state', 10_000)).payload as typeof payload;
    agent.send('desired-state-ack', { generation: payload.generation });
  } while (payload.allocations.length === 0);
  agent.send(
    'heartbeat',
    sampleHeartbeat({
      appliedGeneration: payload.generation,
      allocations: payload.allocations.map((a, i) => ({ allocationId: a.id, state: 'healthy', restarts: 0, upstream: `127.0.0.1:${30000 + i}` })),
    }),
  );
}

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: '1', KARVON_MUTATIONS_PER_MINUTE: '10000', KARVON_MUTATION_BURST: '10000' });
  const admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  const node = await registerNode(admin, REGION);
  agent = await connectRawAgent(cp.url, await agentToken(cp.api, node.credential));
  agent.hello();
  await agent.nextFrame('welcome');
  agent.send('heartbeat', sampleHeartbeat());
  await eventually(async () => expect((await cp.db('nodes').where({ id: node.nodeId }).first<{ liveness: string }>('liveness'))?.liveness).toBe('online'), 10_000);
  customer = await registerCustomer(cp.api, 'git', { admin, tier: 'business' });
  const project = await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'git' });
  const app = await customer.api.post<{ id: string }>('/api/v1/apps', {
    projectId: project.body.id,
    name: 'from-git',
    region: REGION,
    planId: 'small',
    source: { type: 'git', url: 'https://git.example.com/shop.git', branch: 'main' },
  });
  appId = app.body.id;
});

afterAll(async () => {
  agent?.ws.close();
  await cp?.stop();
});

describe('git deploys', () => {
  it('builds the exact commit on a builder, cuts the release from its image and rolls it out', async () => {
    const queued = await customer.api.post<Deploy>(`/api/v1/apps/${appId}/deploys`, { ref: SHA1 });
    expect(queued.status).toBe(202);
    const task = await build({ ok: true, lines: ['Step 1/3 : FROM node:20-bookworm-slim', 'Successfully built'] });
    expect(task.payload).toMatchObject({ appId, registry: null, source: { commitSha: SHA1, branch: 'main' } });
    expect(task.payload.image).toMatch(new RegExp(`^karvon/${appId}:bld_`));
    await converge();
    const done = await finished(queued.body.id);
    expect(done).toMatchObject({ status: 'succeeded', commitSha: SHA1, releaseNumber: 1 });
    expect(done.phases.map((p) => p.name)).toEqual(['queued', 'building', 'releasing', 'succeeded']);
    const release = await cp.db('releases').where({ app_id: appId, number: 1 }).first<{ image: string; commit_sha: string; config: { pinnedNode?: string } }>();
    expect(release).toMatchObject({ image: task.payload.image, commit_sha: SHA1 });
    // No registry in the region: the image lives on its builder, and so do the replicas.
    expect(release?.config.pinnedNode).toBeDefined();
    // Healthy, the replica is routed: the node's next desired state carries the app's route.
    const routed = await eventually(async () => {
      const state = (await agent.nextFrame('desired-state', 5_000)).payload as { generation: number; routes: Array<{ hostname: string; appId: string; upstreams: Array<{ address: string; local: boolean }> }> };
      agent.send('desired-state-ack', { generation: state.generation });
      expect(state.routes.length).toBeGreaterThan(0);
      return state.routes;
    }, 15_000);
    expect(routed).toEqual([{ hostname: `from-git.${REGION}.apps.localhost`, appId, tls: false, upstreams: [{ address: '127.0.0.1:30000', local: true }] }]);
    // Build log lines are written in batches beside the reply that ends the build, and the deploy
    // can finish before the last batch is in: they are there shortly after.
    const log = await eventually(async () => {
      const res = await customer.api.get<string>(`/api/v1/deploys/${queued.body.id}/logs`);
      expect(res.body).toContain('Step 1/3 : FROM node:20-bookworm-slim');
      return res;
    }, 10_000);
    expect(log.body.indexOf('building')).toBeLessThan(log.body.indexOf('Step 1/3'));
  });

  it('fails on a build failure with its code and message, leaving the previous release serving', async () => {
    const queued = await customer.api.post<Deploy>(`/api/v1/apps/${appId}/deploys`, { ref: SHA2 });
    await build({ ok: false, code: 'BUILD_FAILED', message: 'npm ERR! missing script: build' });
    const done = await finished(queued.body.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'BUILD_FAILED', message: 'npm ERR! missing script: build' } });
    const app = await customer.api.get<{ status: string; currentRelease: number }>(`/api/v1/apps/${appId}`);
    expect(app.body).toMatchObject({ status: 'running', currentRelease: 1 });
    // Not retried: the builder's answer is final.
    const tasks = await cp.db('tasks').where({ kind: 'build' }).orderBy('created_at').select('state', 'attempts');
    expect(tasks.at(-1)).toMatchObject({ state: expect.stringMatching(/^(cancelled|dead)$/) as unknown });
  });

  it('queues a build while every build slot is taken instead of failing it', async () => {
    // Heartbeats keep the node online (not suspect) while its builds run.
    const beat = setInterval(() => agent.send('heartbeat', sampleHeartbeat()), 500);
    onTestFinished(() => clearInterval(beat));
    const project = await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'busy' });
    const deploys: string[] = [];
    for (const name of ['busy-a', 'busy-b', 'busy-c']) {
      const app = await customer.api.post<{ id: string }>('/api/v1/apps', { projectId: project.body.id, name, region: REGION, planId: 'small', source: { type: 'git', url: 'https://git.example.com/shop.git', branch: 'main' } });
      deploys.push((await customer.api.post<Deploy>(`/api/v1/apps/${app.body.id}/deploys`, { ref: SHA1 })).body.id);
    }
    // The node has two build slots: two builds start, the third waits in `building`.
    const running = [await agent.nextFrame('task', 10_000), await agent.nextFrame('task', 10_000)].map((f) => (f.payload as { id: string }).id);
    for (const taskId of running) agent.send('task-ack', { taskId, duplicate: false });
    await new Promise((r) => setTimeout(r, 2_000));
    const third = (await customer.api.get<Deploy>(`/api/v1/deploys/${deploys[2]!}`)).body;
    expect(third, JSON.stringify(third.error)).toMatchObject({ status: 'building' });
    expect(agent.frames.filter((f) => f.type === 'task')).toEqual([]);
    // A slot frees: the waiting build is sent.
    agent.send('task-result', { taskId: running[0]!, status: 'failed', error: { code: 'BUILD_FAILED', message: 'first' } });
    await build({ ok: false, code: 'BUILD_FAILED', message: 'third' });
    expect(await finished(deploys[2]!)).toMatchObject({ status: 'failed', error: { code: 'BUILD_FAILED', message: 'third' } });
    agent.send('task-result', { taskId: running[1]!, status: 'failed', error: { code: 'BUILD_FAILED', message: 'second' } });
    expect(await finished(deploys[1]!)).toMatchObject({ status: 'failed', error: { code: 'BUILD_FAILED' } });
  });

  it('queues the task of a build whose control plane stopped between the build row and its task, once', async () => {
    // startBuild commits the build (running, on its node) and then queues the task in a statement
    // of its own, so this process can send it at once: a stop between the two leaves this state.
    const beat = setInterval(() => agent.send('heartbeat', sampleHeartbeat()), 500);
    onTestFinished(() => clearInterval(beat));
    const project = await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'repair' });
    const app = await customer.api.post<{ id: string }>('/api/v1/apps', { projectId: project.body.id, name: 'repair', region: REGION, planId: 'small', source: { type: 'git', url: 'https://git.example.com/shop.git', branch: 'main' } });
    const node = await cp.db('nodes').where({ region_id: REGION }).first<{ id: string }>('id');
    const buildId = newId('bld');
    const deployId = newId('dep');
    await cp.db.transaction(async (trx) => {
      await trx('builds').insert({ id: buildId, app_id: app.body.id, commit_sha: SHA2, status: 'running', node_id: node.id, started_at: new Date() });
      await trx('deploys').insert({ id: deployId, app_id: app.body.id, kind: 'deploy', status: 'building', ref: 'main', commit_sha: SHA2, build_id: buildId, phases: JSON.stringify([{ name: 'queued', startedAt: new Date().toISOString() }, { name: 'building', startedAt: new Date().toISOString() }]) });
    });
    const task = await build({ ok: true, lines: ['Successfully built'] });
    expect(task.payload).toMatchObject({ buildId, appId: app.body.id, source: { commitSha: SHA2, branch: 'main' } });
    await converge();
    expect(await finished(deployId)).toMatchObject({ status: 'succeeded', commitSha: SHA2 });
    expect(await cp.db('tasks').where({ idempotency_key: `build:${buildId}` }).count<Array<{ count: string }>>('* as count')).toEqual([{ count: '1' }]);
  });
});
