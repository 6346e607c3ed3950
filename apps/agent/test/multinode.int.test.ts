// Three real nodes in one region (three extra dockerd on this machine, an agent process each; see
// test/multinode/README.md) against a real control plane, with faults injected: a node lost (agent
// SIGKILLed, engine stopped) and brought back, a drain under polled traffic, an agent frozen past its
// grace then resumed, agents killed at random points of deploys, and the control plane (a real
// process for that test) SIGKILLed at random points of dispatching a stream of tasks and deploys.
// Every random point derives from one seed, printed first (KARVON_MULTINODE_SEED replays it). Each
// test asserts what the customer sees (instances, upstreams answering) and what the engines run
// (containers labelled karvon.app=<id> on every engine: each live allocation exactly once, nothing
// stale); the control plane test also what the agents executed (their task journals).
import { writeFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestControlPlane, TEST_ADMIN, type TestControlPlane } from '../../../test/control-plane';
import { CUSTOMER_PASSWORD, ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { BUSYBOX_IMAGE, ensureBaseImages, NODE_IMAGE } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { startCluster, type Cluster } from '../../../test/multinode/cluster';
import { controlPlaneProcess } from '../../../test/multinode/control-plane-process';
import { askChallenge, readJournal, startTaskStream, taskViolations, type TaskRow } from '../../../test/multinode/task-stream';
import { connectDatabase, type Db } from '../../control-plane/src/db/connect';
import { createRng } from '../../control-plane/src/scheduler';
import { buildFixtureImages, fetchText, imageOf } from './runtime-fixtures';

const REGION = 'mn-1';
const GRACE_SECONDS = 10;
/** deploys killed at random points (the issue's 10; each costs 10–25 s on a busy 2-core machine) */
const KILLED_DEPLOYS = Number(process.env.KARVON_MULTINODE_KILLED_DEPLOYS ?? 10);
/** control plane SIGKILLs during dispatch (the issue's 10) */
const CONTROL_PLANE_KILLS = Number(process.env.KARVON_MULTINODE_CP_KILLS ?? 10);
/** seeds every random kill point here: printed, and set it to replay a failure */
const SEED = Number(process.env.KARVON_MULTINODE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TERMINAL = ['succeeded', 'failed', 'cancelled'];
const CONTROL_PLANE_ENV = {
  KARVON_HEARTBEAT_SECONDS: '1',
  KARVON_NODE_GRACE_SECONDS: String(GRACE_SECONDS),
  KARVON_ROLLOUT_TIMEOUT_SECONDS: '120',
  KARVON_DEGRADED_PERCENT: '100',
  KARVON_MUTATIONS_PER_MINUTE: '10000',
  KARVON_MUTATION_BURST: '10000',
};
console.log(`[multinode] seed ${SEED} (replay with KARVON_MULTINODE_SEED=${SEED})`);

interface Instance {
  id: string;
  nodeId: string;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await describeDocker('three nodes: failover, drain, fencing, agent crashes', () => {
  let docker: Docker;
  let cp: TestControlPlane;
  let cluster: Cluster;
  let customer: Customer;
  let projectId = '';
  /** the database as the tests read it (the in-process control plane's, unless it is down) */
  let stateDb: Db | undefined;

  const api = () => customer.api;
  const instances = async (appId: string) => (await api().get<{ items: Instance[] }>(`/api/v1/apps/${appId}/instances`)).body.items;

  /** deploys and allocations of the app as the control plane has them: the report on a failure */
  const controlPlaneState = async (appId: string): Promise<string> => {
    const db = stateDb ?? cp.db;
    const deploys = await db('deploys').where({ app_id: appId }).orderBy('created_at').select('id', 'status', 'error', 'created_at', 'updated_at');
    const allocs = await db('allocations').where({ app_id: appId }).orderBy('created_at').select('*');
    const nodes = await db('nodes').select('id', 'admin_status', 'liveness', 'last_heartbeat_at');
    const keep = ['id', 'node_id', 'release_id', 'deploy_id', 'replaces', 'desired_status', 'actual_status', 'upstream', 'status_message', 'started_at', 'stopped_at', 'created_at'];
    const rows = (allocs as Array<Record<string, unknown>>).map((a) => Object.fromEntries(keep.filter((k) => k in a).map((k) => [k, a[k]])));
    return JSON.stringify({ deploys, allocations: rows, nodes }, null, 1);
  };
  const withState = async <T>(appId: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      const err = e as Error;
      err.message += `\ncontrol plane state:\n${await controlPlaneState(appId).catch((x: Error) => x.message)}\n${cluster.agentLogs(15)}`;
      throw err;
    }
  };

  const waitForDeploy = (d: Deploy, timeoutMs = 120_000): Promise<Deploy> =>
    eventually(async () => {
      const got = (await api().get<Deploy>(`/api/v1/deploys/${d.id}`)).body;
      expect(TERMINAL).toContain(got.status);
      return got;
    }, timeoutMs, 250);

  /** a new app deployed with `replicas` replicas, all serving */
  const deployedApp = async (name: string, replicas: number): Promise<string> => {
    const created = await api().post<{ id: string }>('/api/v1/apps', {
      projectId,
      name,
      region: REGION,
      planId: 'small',
      replicas,
      source: { type: 'image', image: imageOf('node-hello') },
      port: 3000,
      healthCheck: { type: 'http', path: '/healthz' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const appId = created.body.id;
    const first = await api().post<Deploy>(`/api/v1/apps/${appId}/deploys`, {});
    expect(first.status).toBe(202);
    await withState(appId, async () => expect(await waitForDeploy(first.body)).toMatchObject({ status: 'succeeded' }));
    await serving(appId, replicas, 60_000);
    return appId;
  };

  /** `n` healthy instances, none on `avoid` nodes, each upstream answering */
  const serving = (appId: string, n: number, timeoutMs: number, avoid: string[] = []) =>
    eventually(
      async () => {
        const list = await instances(appId);
        expect(list.map((i) => i.status)).toEqual(Array(n).fill('healthy'));
        for (const i of list) {
          expect(avoid).not.toContain(i.nodeId);
          expect(JSON.parse(await fetchText(`http://${i.upstream}/`))).toHaveProperty('greeting');
        }
        return list;
      },
      timeoutMs,
      250,
    );

  /** On the engines: exactly the live allocations run, each once; no other container of the app exists. */
  const noDuplicates = (appId: string, replicas: number, timeoutMs = 60_000) =>
    eventually(
      async () => {
        const live = (await instances(appId)).map((i) => i.id).sort();
        const all = await cluster.appContainers(appId, { all: true });
        const running = all.filter((c) => c.state === 'running');
        expect(running.map((c) => c.allocation).sort()).toEqual(live);
        expect(all.map((c) => c.allocation).sort()).toEqual(live); // the stale ones removed, not just stopped
        expect(live).toHaveLength(replicas);
        return all;
      },
      timeoutMs,
      500,
    );

  /** the node index hosting an instance of the app */
  const hostOf = async (appId: string): Promise<number> => {
    const [first] = await instances(appId);
    const n = cluster.indexOf(first!.nodeId);
    expect(n).toBeGreaterThanOrEqual(0);
    return n;
  };

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildFixtureImages(docker);
    cp = await startTestControlPlane(CONTROL_PLANE_ENV);
    const admin = await cp.adminClient();
    await ensureCatalog(admin, REGION);
    cluster = await startCluster({
      cp,
      region: REGION,
      nodes: 3,
      images: [BUSYBOX_IMAGE, NODE_IMAGE, imageOf('node-hello')],
      // a replaced container keeps serving (unrouted) for 2 s, so a route read just before the
      // switch still answers: the production default is 5 s
      agentEnv: { KARVON_DRAIN_SECONDS: '2' },
      log: (l) => console.log(`[multinode] ${l}`),
    });
    customer = await registerCustomer(cp.api, 'multinode', { admin, tier: 'business' });
    const project = await api().post<{ id: string }>('/api/v1/projects', { name: 'fleet' });
    projectId = project.body.id;
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    await cp?.stop();
  }, 120_000);

  it('a lost node: its replicas run again elsewhere within grace + 60 s; back, nothing runs twice', async () => {
    const appId = await deployedApp('lost', 3);
    await withState(appId, async () => {
      const victim = await hostOf(appId);
      const victimId = cluster.node(victim).nodeId;
      const lost = Date.now();
      await cluster.killAgent(victim);
      await cluster.stopEngine(victim);
      const moved = await serving(appId, 3, (GRACE_SECONDS + 60) * 1000, [victimId]);
      console.log(`[multinode] failover: ${moved.length} replicas serving off node ${victim} after ${Date.now() - lost} ms`);

      const backAt = Math.floor(Date.now() / 1000);
      await cluster.startEngine(victim);
      await cluster.restartAgent(victim);
      const live = await noDuplicates(appId, 3);
      // The returning agent must not start its old containers (its desired state on disk is stale).
      const events = await engineEvents(cluster.node(victim).engine.docker, appId, backAt);
      const stale = events.filter((e) => (e.action === 'start' || e.action === 'create') && !live.some((c) => c.allocation === e.allocation));
      expect((await cluster.appContainers(appId, { all: true })).filter((c) => c.node === victim)).toEqual([]);
      await serving(appId, 3, 10_000);
      expect.soft(stale, `the returning agent started stale containers: ${JSON.stringify(events)}`).toEqual([]);
    });
  }, 200_000);

  it('a drain: zero failed requests while the replicas move; the node ends drained', async () => {
    const appId = await deployedApp('drain', 2);
    await withState(appId, async () => {
      const victim = await hostOf(appId);
      const victimId = cluster.node(victim).nodeId;
      // The poller routes as a proxy would: the current healthy upstreams (from the instances),
      // one request to each every 100 ms.
      let requests = 0;
      const failures: string[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const tick = Date.now();
          const ups = (await instances(appId)).filter((i) => i.status === 'healthy' && i.upstream).map((i) => i.upstream!);
          if (ups.length === 0) failures.push(`${new Date().toISOString()} no healthy upstream`);
          await Promise.all(
            ups.map(async (u) => {
              requests++;
              const text = await fetchText(`http://${u}/`);
              if (!text.includes('greeting')) failures.push(`${new Date().toISOString()} ${u}: ${text.slice(0, 200)}`);
            }),
          );
          await sleep(Math.max(0, 100 - (Date.now() - tick)));
        }
      })();
      try {
        const patched = await cluster.admin.patch<{ status: string }>(`/api/v1/admin/nodes/${victimId}`, { status: 'draining' });
        expect(patched.status, JSON.stringify(patched.body)).toBe(200);
        await eventually(async () => expect((await cluster.nodeView(victim)).status).toBe('drained'), 90_000, 500);
        await serving(appId, 2, 30_000, [victimId]);
        await sleep(1_000);
      } finally {
        polling = false;
        await poller;
      }
      console.log(`[multinode] drain: ${requests} requests, ${failures.length} failed`);
      expect(failures).toEqual([]);
      expect(requests).toBeGreaterThan(20);
      await noDuplicates(appId, 2);
      expect((await cluster.appContainers(appId, { all: true })).filter((c) => c.node === victim)).toEqual([]);
      // back in service for the next tests
      expect((await cluster.admin.patch(`/api/v1/admin/nodes/${victimId}`, { status: 'active' })).status).toBe(200);
    });
  }, 200_000);

  it('an agent frozen past its grace, then resumed: it applies nothing stale', async () => {
    const appId = await deployedApp('frozen', 2);
    await withState(appId, async () => {
      const victim = await hostOf(appId);
      const node = cluster.node(victim);
      const before = (await instances(appId)).filter((i) => i.nodeId === node.nodeId).map((i) => i.id);
      cluster.pauseAgent(victim);
      // offline past the grace, its replicas placed elsewhere (its own containers still run: the
      // engine is fine, only the agent is frozen)
      await eventually(async () => expect((await cluster.nodeView(victim)).liveness).toBe('offline'), (GRACE_SECONDS + 30) * 1000, 500);
      await serving(appId, 2, 60_000, [node.nodeId]);
      const resumedAt = Math.floor(Date.now() / 1000);
      cluster.resumeAgent(victim);
      await noDuplicates(appId, 2);
      // What the resumed agent did to the app's containers on its engine: removing its old ones is
      // right; creating or starting any is applying something stale.
      const events = await engineEvents(node.engine.docker, appId, resumedAt);
      const acted = events.filter((e) => e.action === 'create' || e.action === 'start' || e.action === 'restart');
      expect(acted, JSON.stringify(events)).toEqual([]);
      for (const id of before) expect(events.some((e) => e.allocation === id && e.action === 'destroy'), `${id} removed`).toBe(true);
    });
  }, 200_000);

  it(`an agent killed at ${KILLED_DEPLOYS} random points of deploys: every deploy ends terminal, nothing runs twice`, async () => {
    const appId = await deployedApp('crashy', 2);
    const rng = createRng(SEED);
    await withState(appId, async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < KILLED_DEPLOYS; i++) {
        const env = await api().patch<{ deploy: Deploy }>(`/api/v1/apps/${appId}/env`, { set: { ROUND: String(i) } });
        expect(env.status, JSON.stringify(env.body)).toBe(200);
        const victim = await hostOf(appId);
        const delay = Math.floor(rng() * 4_000);
        await sleep(delay);
        await cluster.killAgent(victim);
        await sleep(Math.floor(rng() * 2_000));
        await cluster.restartAgent(victim);
        const done = await waitForDeploy(env.body.deploy, 120_000);
        outcomes.push(`${i}: node ${victim} killed after ${delay} ms → ${done.status}${done.error ? ` (${done.error.code}: ${done.error.message})` : ''}`);
      }
      console.log(`[multinode] killed deploys:\n${outcomes.join('\n')}`);
      const deploys = (await api().get<{ items: Deploy[] }>(`/api/v1/apps/${appId}/deploys`)).body.items;
      for (const d of deploys) expect(TERMINAL, `deploy ${d.id}`).toContain(d.status);
      await noDuplicates(appId, 2);
      await serving(appId, 2, 30_000);
    });
  }, 280_000);

  it(`a control plane SIGKILLed at ${CONTROL_PLANE_KILLS} random points of dispatch: no task lost or applied twice`, async () => {
    const appId = await deployedApp('cpcrash', 2);
    const killRng = createRng(SEED ^ 0x2545f491);
    // The in-process control plane hands over to a real process on the same port, database and
    // data dir (the agents' relays point at the port); it comes back for the cleanup.
    const db = connectDatabase(cp.databaseUrl);
    stateDb = db;
    const relaunch = await cp.halt();
    const proc = controlPlaneProcess({ port: cp.port, databaseUrl: cp.databaseUrl, dataDir: cp.dataDir, admin: TEST_ADMIN, env: CONTROL_PLANE_ENV, logLevel: process.env.KARVON_MULTINODE_CP_LOG_LEVEL });
    const deployIds: string[] = [];
    const kills: string[] = [];
    const prefix = `cpk${SEED.toString(36)}`;
    try {
      /** starts a control plane process; resolves once every agent has a session with it */
      const startLife = async () => {
        const startedAt = new Date();
        await proc.start();
        await eventually(
          async () => {
            const nodes = await db('nodes').whereIn('id', cluster.nodes.map((n) => n.nodeId)).select<Array<{ id: string; last_heartbeat_at: Date | null }>>('id', 'last_heartbeat_at');
            expect(nodes.filter((n) => !n.last_heartbeat_at || n.last_heartbeat_at <= startedAt).map((n) => n.id)).toEqual([]);
          },
          60_000,
          100,
        );
      };
      const settled = async () =>
        Number((await db('tasks').whereIn('state', ['succeeded', 'failed', 'dead', 'timed-out', 'cancelled']).where('idempotency_key', 'like', `${prefix}-%`).count<Array<{ count: string }>>('* as count'))[0]!.count);
      await startLife();
      const stream = startTaskStream({ db, nodes: cluster.nodes, rng: createRng(SEED ^ 0x68e31da4), prefix, everyMs: 250 });
      let tasks;
      try {
        for (let i = 0; i < CONTROL_PLANE_KILLS; i++) {
          // a deploy with every life of the control plane (tokens do not outlive it: log in again)
          const login = await cp.api.login(customer.email, CUSTOMER_PASSWORD);
          expect(login.status).toBe(200);
          const env = await cp.api.as(login.body.accessToken).patch<{ deploy: Deploy | null }>(`/api/v1/apps/${appId}/env`, { set: { LIFE: String(i) } });
          expect(env.status, JSON.stringify(env.body)).toBe(200);
          if (env.body.deploy) deployIds.push(env.body.deploy.id);
          const delay = Math.floor(killRng() * 4_000);
          const down = Math.floor(killRng() * 2_000);
          const before = await settled();
          await sleep(delay);
          const open = await db('tasks').whereIn('state', ['queued', 'dispatched', 'acknowledged', 'running']).where('idempotency_key', 'like', `${prefix}-%`).count<Array<{ count: string }>>('* as count');
          await proc.kill();
          kills.push(`${i}: ${new Date().toISOString()} killed ${delay} ms after a deploy, ${(await settled()) - before} tasks settled meanwhile, ${open[0]!.count} open; down ${down} ms`);
          await sleep(down);
          await startLife();
        }
      } finally {
        tasks = await stream.stop();
      }
      console.log(`[multinode] control plane kills (seed ${SEED}):\n${kills.join('\n')}\n${tasks.length} tasks committed`);

      // Everything settles on the last process: each task ran once on its node, with its result.
      const keys = tasks.map((t) => t.key);
      const rows = await eventually(
        async () => {
          const got = await db('tasks').whereIn('idempotency_key', keys).select<TaskRow[]>('id', 'idempotency_key', 'node_id', 'state', 'attempts', 'result', 'last_error');
          expect(got.filter((r) => !['succeeded', 'failed', 'dead', 'timed-out', 'cancelled'].includes(r.state)).map((r) => `${r.idempotency_key}:${r.state}`)).toEqual([]);
          expect(got).toHaveLength(tasks.length);
          return got;
        },
        120_000,
        500,
      );
      const journals = await Promise.all(cluster.nodes.map((n) => readJournal(n.stateDir, prefix)));
      const violations = taskViolations(tasks, rows, journals);
      const redelivered = rows.filter((r) => r.attempts > 1).length;
      console.log(`[multinode] ${rows.length} tasks succeeded once each; ${redelivered} were delivered more than once`);
      expect(violations).toEqual([]);
      // (the check is not vacuous: a second execution of any task is caught)
      const doubled = journals.map((j, n) => (n === tasks[0]!.nodeIndex ? j.map((e) => (e.idempotencyKey === tasks[0]!.key ? { ...e, executions: 2 } : e)) : j));
      expect(taskViolations(tasks, rows, doubled)).toHaveLength(1);
      // The installs took effect on their node, and only there.
      for (const t of tasks.filter((x) => x.challenge)) {
        for (const node of cluster.nodes) {
          const got = await askChallenge(node.challengePort, t.challenge!.hostname, t.challenge!.token);
          expect(got, `${t.key} asked of node ${node.index}`).toEqual(node.index === t.nodeIndex ? { status: 200, body: t.challenge!.keyAuthorization } : { status: 404, body: 'unknown challenge\n' });
        }
      }

      // The deploys of those lives: each ends terminal, the app serves, each allocation once.
      const login = await cp.api.login(customer.email, CUSTOMER_PASSWORD);
      customer = { ...customer, api: cp.api.as(login.body.accessToken) };
      await withState(appId, async () => {
        for (const id of deployIds) await waitForDeploy({ id, status: 'queued' }, 180_000);
        await noDuplicates(appId, 2, 90_000);
        await serving(appId, 2, 60_000);
      });
    } catch (e) {
      const err = e as Error;
      err.message += `\ncontrol plane output (tail):\n${proc.output().slice(-6000)}`;
      throw err;
    } finally {
      await proc.stop();
      // every process's output and the agents', for a look at what happened (KARVON_MULTINODE_CP_LOG=<file>)
      if (process.env.KARVON_MULTINODE_CP_LOG) {
        const agents = cluster.nodes.map((n) => `--- agent ${n.index} ---\n${[...n.pastOutput, n.agent?.output() ?? ''].join('\n')}`).join('\n');
        await writeFile(process.env.KARVON_MULTINODE_CP_LOG, `${proc.output(true)}\n${agents}\n`);
      }
      stateDb = undefined;
      cp = await relaunch();
      await cluster.refreshAdmin();
      const login = await cp.api.login(customer.email, CUSTOMER_PASSWORD);
      if (login.status === 200) customer = { ...customer, api: cp.api.as(login.body.accessToken) };
      await db.destroy();
    }
  }, 600_000);
});

/** Container events of the app on one engine since `since` (unix seconds), until now. */
async function engineEvents(docker: Docker, appId: string, since: number): Promise<Array<{ action: string; allocation: string; at: number }>> {
  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = await docker.getEvents({ since, until, filters: { type: ['container'], label: [`karvon.app=${appId}`] } });
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { Action: string; time: number; Actor: { Attributes: Record<string, string> } })
    .map((e) => ({ action: e.Action, allocation: e.Actor.Attributes['karvon.allocation'] ?? '', at: e.time }));
}
