// The soak run behind scripts/soak.mjs: a region of real nodes (cluster.ts), a few apps, a deploy
// and a fault every few seconds for a configured time, invariants checked all along and at the end.
//
// Faults (one node faulty at a time, each healed after a random while): agent SIGKILL (restarted),
// agent SIGSTOP (sometimes past the grace) then SIGCONT, partition (relay black hole) then heal,
// node lost (agent SIGKILL + dockerd stopped) then back, drain then re-activate, control plane
// restart (graceful, same port and database).
//
// Invariants: while running, an allocation never runs in two containers (on one engine or across
// engines); at the end, once every fault is healed: every deploy is terminal, every app has its
// replicas healthy and answering, and the engines run exactly the live allocations, each once.
import Docker from 'dockerode';
import { CUSTOMER_PASSWORD, ensureCatalog, registerCustomer } from '../customers';
import { BUSYBOX_IMAGE, ensureBaseImages, NODE_IMAGE } from '../docker/base-images';
import { buildFixtureImages, fetchText, imageOf } from '../../apps/agent/test/runtime-fixtures';
import { startCluster, type Cluster } from './cluster';
import { startStandaloneControlPlane } from './standalone-control-plane';

export interface SoakOptions {
  durationMs: number;
  faultEveryMs: number;
  nodes: number;
  apps: number;
  replicas: number;
  graceSeconds: number;
  log: (line: string) => void;
}

export interface SoakSummary {
  ok: boolean;
  seconds: number;
  faults: Record<string, number>;
  deploys: Record<string, number>;
  violations: string[];
  final: string[];
  /** "connection lost" lines per agent (all its processes): socket churn the faults did not cause directly */
  connectionLost: number[];
}

const REGION = 'soak-1';
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

interface Instance {
  id: string;
  nodeId: string;
  status: string;
  upstream: string | null;
}

export async function runSoak(o: SoakOptions): Promise<SoakSummary> {
  const started = Date.now();
  const faults: Record<string, number> = {};
  const violations: string[] = [];
  const final: string[] = [];
  const deployIds: string[] = [];

  const main = new Docker();
  await ensureBaseImages(main);
  await buildFixtureImages(main);
  const cp = await startStandaloneControlPlane({
    KARVON_HEARTBEAT_SECONDS: '1',
    KARVON_NODE_GRACE_SECONDS: String(o.graceSeconds),
    KARVON_ROLLOUT_TIMEOUT_SECONDS: '120',
    KARVON_DEGRADED_PERCENT: '100',
    KARVON_MUTATIONS_PER_MINUTE: '100000',
    KARVON_MUTATION_BURST: '100000',
  });
  let cluster: Cluster | undefined;
  try {
    const admin = await cp.adminClient();
    await ensureCatalog(admin, REGION);
    cluster = await startCluster({
      cp,
      region: REGION,
      nodes: o.nodes,
      images: [BUSYBOX_IMAGE, NODE_IMAGE, imageOf('node-hello')],
      agentEnv: { KARVON_DRAIN_SECONDS: '2' },
      log: o.log,
    });
    const c = cluster;
    const customer = await registerCustomer(cp.api, 'soak', { admin, tier: 'business' });
    let api = customer.api;
    const project = await api.post<{ id: string }>('/api/v1/projects', { name: 'soak' });
    const apps: string[] = [];
    for (let i = 0; i < o.apps; i++) {
      const created = await api.post<{ id: string }>('/api/v1/apps', {
        projectId: project.body.id,
        name: `soak${i}`,
        region: REGION,
        planId: 'small',
        replicas: o.replicas,
        source: { type: 'image', image: imageOf('node-hello') },
        port: 3000,
        healthCheck: { type: 'http', path: '/healthz' },
      });
      if (created.status !== 201) throw new Error(`app: ${created.status} ${JSON.stringify(created.body)}`);
      apps.push(created.body.id);
      const d = await api.post<{ id: string }>(`/api/v1/apps/${created.body.id}/deploys`, {});
      if (d.status === 202) deployIds.push(d.body.id);
    }
    const instances = async (appId: string) => (await api.get<{ items?: Instance[] }>(`/api/v1/apps/${appId}/instances`)).body.items ?? [];

    // The continuous invariant: an allocation runs in at most one container, fleet-wide.
    const checkNoDuplicateAllocation = async () => {
      for (const appId of apps) {
        const running = (await c.appContainers(appId).catch(() => [])).filter((x) => x.state === 'running');
        const seen = new Map<string, number>();
        for (const x of running) {
          if (seen.has(x.allocation)) violations.push(`${new Date().toISOString()} allocation ${x.allocation} of ${appId} runs twice (nodes ${seen.get(x.allocation)} and ${x.node})`);
          seen.set(x.allocation, x.node);
        }
      }
    };

    // One fault at a time; `heal` undoes it.
    let heal: (() => Promise<void>) | undefined;
    let healAt = 0;
    const inject = async () => {
      const n = rand(0, o.nodes - 1);
      const kind = pick(['kill-agent', 'kill-agent', 'pause', 'partition', 'node-lost', 'drain', 'cp-restart'] as const);
      faults[kind] = (faults[kind] ?? 0) + 1;
      o.log(`fault: ${kind} on node ${n}`);
      switch (kind) {
        case 'kill-agent':
          await c.killAgent(n);
          await sleep(rand(0, 3_000));
          await c.restartAgent(n);
          return;
        case 'pause':
          c.pauseAgent(n);
          heal = () => Promise.resolve(c.resumeAgent(n));
          healAt = Date.now() + rand(2_000, (o.graceSeconds + 15) * 1000);
          return;
        case 'partition':
          c.cutOff(n);
          heal = () => Promise.resolve(c.reconnect(n));
          healAt = Date.now() + rand(2_000, (o.graceSeconds + 15) * 1000);
          return;
        case 'node-lost':
          await c.killAgent(n);
          await c.stopEngine(n);
          heal = async () => {
            await c.startEngine(n);
            await c.restartAgent(n);
          };
          healAt = Date.now() + rand(5_000, (o.graceSeconds + 30) * 1000);
          return;
        case 'drain': {
          const id = c.node(n).nodeId;
          await c.admin.patch(`/api/v1/admin/nodes/${id}`, { status: 'draining' });
          heal = async () => {
            await c.admin.patch(`/api/v1/admin/nodes/${id}`, { status: 'active' });
          };
          healAt = Date.now() + rand(5_000, 30_000);
          return;
        }
        case 'cp-restart': {
          await cp.restart();
          // tokens do not survive a control plane restart: log in again
          await c.refreshAdmin();
          const login = await cp.api.login(customer.email, CUSTOMER_PASSWORD);
          if (login.status !== 200) throw new Error(`customer login after restart: ${login.status}`);
          api = cp.api.as(login.body.accessToken);
          return;
        }
      }
    };

    let nextFault = Date.now() + o.faultEveryMs;
    let nextCheck = Date.now();
    while (Date.now() - started < o.durationMs) {
      if (heal && Date.now() >= healAt) {
        const h = heal;
        heal = undefined;
        await h().catch((e: Error) => violations.push(`heal failed: ${e.message}`));
        o.log('healed');
      }
      if (Date.now() >= nextFault) {
        nextFault = Date.now() + o.faultEveryMs;
        // a deploy (an env change: a new release rolled out) with every fault
        const appId = pick(apps);
        // (no deploy while the app has no release yet: the env change waits for the first one)
        const d = await api.patch<{ deploy: { id: string } | null }>(`/api/v1/apps/${appId}/env`, { set: { SOAK: String(Date.now()) } }).catch(() => undefined);
        if (d?.status === 200 && d.body.deploy) deployIds.push(d.body.deploy.id);
        else if (d?.status !== 200) o.log(`deploy refused: ${d?.status} ${JSON.stringify(d?.body)}`);
        if (!heal) await inject().catch((e: Error) => o.log(`fault failed: ${e.message}`));
      }
      if (Date.now() >= nextCheck) {
        nextCheck = Date.now() + 2_000;
        await checkNoDuplicateAllocation();
      }
      await sleep(250);
    }

    // Heal everything, then let the region settle and check the end state.
    o.log('healing and settling');
    if (heal) await heal().catch((e: Error) => violations.push(`heal failed: ${e.message}`));
    for (const node of c.nodes) {
      if (!node.engine.running) await c.startEngine(node.index);
      c.reconnect(node.index);
      if (node.paused) c.resumeAgent(node.index);
      await c.admin.patch(`/api/v1/admin/nodes/${node.nodeId}`, { status: 'active' });
      if (!node.agent || node.agent.child.exitCode !== null) await c.restartAgent(node.index);
    }
    const settleUntil = Date.now() + 180_000;
    const statuses = async () => Promise.all(deployIds.map(async (id) => (await api.get<{ status: string }>(`/api/v1/deploys/${id}`)).body.status));
    while (Date.now() < settleUntil && (await statuses()).some((s) => !TERMINAL.has(s))) await sleep(1_000);
    const deploys: Record<string, number> = {};
    for (const s of await statuses()) deploys[s] = (deploys[s] ?? 0) + 1;
    for (const [s, n] of Object.entries(deploys)) if (!TERMINAL.has(s)) final.push(`${n} deploys still ${s}`);

    for (const appId of apps) {
      let last = '';
      const until = Date.now() + 120_000;
      for (;;) {
        const list = await instances(appId);
        const all = await c.appContainers(appId, { all: true });
        const live = list.map((i) => i.id).sort();
        const onEngines = all.map((x) => x.allocation).sort();
        const answers = await Promise.all(list.map(async (i) => (i.upstream ? (await fetchText(`http://${i.upstream}/`)).includes('greeting') : false)));
        const healthy = list.filter((i) => i.status === 'healthy').length;
        last = `app ${appId}: ${healthy}/${o.replicas} healthy, ${answers.filter(Boolean).length} answering; live ${live.join(',')}; on engines ${all.map((x) => `${x.allocation}@${x.node}:${x.state}`).join(',')}`;
        const ok =
          live.length === o.replicas && healthy === o.replicas && answers.every(Boolean) && JSON.stringify(live) === JSON.stringify(onEngines) && all.every((x) => x.state === 'running');
        if (ok) break;
        if (Date.now() > until) {
          final.push(`not settled: ${last}`);
          break;
        }
        await sleep(1_000);
      }
      o.log(last);
    }
    await checkNoDuplicateAllocation();
    const connectionLost = c.nodes.map((node) => [...node.pastOutput, node.agent?.output() ?? ''].join('\n').split('"msg":"connection lost"').length - 1);
    return {
      ok: violations.length === 0 && final.length === 0,
      seconds: Math.round((Date.now() - started) / 1000),
      faults,
      deploys,
      violations,
      final,
      connectionLost,
    };
  } finally {
    await cluster?.stop().catch((e: Error) => o.log(`cluster stop: ${e.message}`));
    await cp.stop().catch((e: Error) => o.log(`control plane stop: ${e.message}`));
  }
}
