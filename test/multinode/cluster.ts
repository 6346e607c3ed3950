// A region of real nodes on one machine: N extra Docker engines (engine.ts), one agent process per
// engine (its own DOCKER_HOST, state dir, port range, advertise address 127.0.<k>.<10+i>), each
// talking to the control plane through its own relay (relay.ts) so it can be cut off; and the
// faults the tests inject. The control plane is the caller's (a TestControlPlane in vitest, or the
// soak script's own).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import type { ApiClient } from '../api-client';
import { registrationToken } from '../agents';
import { freePort } from '../free-port';
import { nodeBin, startProcess, type RunningProcess } from '../processes';
import { createEngine, loadImages, removeBridges, saveImages, type TestEngine } from './engine';
import { startRelay, type Relay } from './relay';

const execFile = promisify(execFileCb);
const agentBin = nodeBin('apps/agent/bin/karvon-agent.js');

export interface ClusterControlPlane {
  url: string;
  adminClient(): Promise<ApiClient>;
}

export interface TestNode {
  readonly index: number;
  readonly name: string;
  nodeId: string;
  /** the address its containers publish on (KARVON_ADVERTISE_ADDR) */
  readonly addr: string;
  readonly portRange: { min: number; max: number };
  /** the agent's ACME challenge responder, on 127.0.0.1 (KARVON_CHALLENGE_PORT) */
  readonly challengePort: number;
  readonly engine: TestEngine;
  readonly relay: Relay;
  readonly stateDir: string;
  agent: RunningProcess | undefined;
  paused: boolean;
  /** output of this node's earlier agent processes (last 20 kB each) */
  readonly pastOutput: string[];
}

export interface ClusterOptions {
  cp: ClusterControlPlane;
  region: string;
  nodes: number;
  /** images (already on the main engine) to copy into every engine */
  images: readonly string[];
  /** extra agent environment */
  agentEnv?: Record<string, string>;
  /** the main engine, for `docker save` (default: DOCKER_HOST or the default socket) */
  mainDockerHost?: string;
  log?: (line: string) => void;
}

export interface Cluster {
  readonly nodes: readonly TestNode[];
  /** the admin's client (log in again with refreshAdmin() after a control plane restart) */
  readonly admin: ApiClient;
  refreshAdmin(): Promise<void>;
  readonly dir: string;
  node(n: number): TestNode;
  /** index of the node with this id */
  indexOf(nodeId: string): number;
  /** SIGKILL the agent (no goodbye to the control plane, containers keep running) */
  killAgent(n: number): Promise<void>;
  /** starts the agent again (killing it first if it runs); resolves once it is connected */
  restartAgent(n: number, opts?: { waitConnected?: boolean }): Promise<void>;
  /** SIGSTOP / SIGCONT the agent: a frozen process (GC pause, stuck VM) that wakes up later */
  pauseAgent(n: number): void;
  resumeAgent(n: number): void;
  /** stops the node's dockerd (SIGTERM: its containers stop, as on a shutdown) */
  stopEngine(n: number): Promise<void>;
  startEngine(n: number): Promise<void>;
  /** partitions the node's agent from the control plane (relay black hole); its containers keep serving */
  cutOff(n: number): void;
  reconnect(n: number): void;
  /** the app's containers on every running engine, by node index */
  appContainers(appId: string, opts?: { all?: boolean }): Promise<Array<{ node: number; id: string; state: string; allocation: string }>>;
  /** the admin view of a node */
  nodeView(n: number): Promise<{ status: string; liveness: string; lastHeartbeatAt: string | null }>;
  /** the tail of every agent's output, for failure messages */
  agentLogs(lines?: number): string;
  stop(): Promise<void>;
}

/** Waits for `check` to return true, polling every `intervalMs`. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const log = opts.log ?? (() => undefined);
  const dir = await mkdtemp('/tmp/kvmn-');
  let admin = await opts.cp.adminClient();
  const cpUrl = new URL(opts.cp.url);
  const octet = 20 + Math.floor(Math.random() * 200);
  const nodes: TestNode[] = [];

  const cluster: Cluster = {
    nodes,
    get admin() {
      return admin;
    },
    async refreshAdmin() {
      admin = await opts.cp.adminClient();
    },
    dir,
    node: (n) => {
      const node = nodes[n];
      if (!node) throw new Error(`no node ${n}`);
      return node;
    },
    indexOf: (id) => nodes.findIndex((x) => x.nodeId === id),
    async killAgent(n) {
      const node = cluster.node(n);
      const p = node.agent;
      if (!p) return;
      p.kill('SIGKILL');
      if (node.paused) process.kill(p.child.pid!, 'SIGCONT');
      node.paused = false;
      await p.exited;
    },
    async restartAgent(n, o = {}) {
      const node = cluster.node(n);
      await cluster.killAgent(n);
      if (node.agent) node.pastOutput.push(node.agent.output().slice(-20_000));
      const before = Date.now();
      node.agent = runAgent(node);
      if (o.waitConnected ?? true) {
        await waitFor(
          `agent ${n} to send heartbeats again`,
          async () => {
            const v = await cluster.nodeView(n);
            return v.liveness === 'online' && v.lastHeartbeatAt !== null && Date.parse(v.lastHeartbeatAt) > before;
          },
          30_000,
        ).catch((e: Error) => {
          throw new Error(`${e.message}\n${node.agent?.output().slice(-3000) ?? ''}`);
        });
      }
    },
    pauseAgent(n) {
      const node = cluster.node(n);
      if (!node.agent?.child.pid) throw new Error(`agent ${n} is not running`);
      process.kill(node.agent.child.pid, 'SIGSTOP');
      node.paused = true;
    },
    resumeAgent(n) {
      const node = cluster.node(n);
      if (!node.agent?.child.pid) throw new Error(`agent ${n} is not running`);
      process.kill(node.agent.child.pid, 'SIGCONT');
      node.paused = false;
    },
    stopEngine: (n) => cluster.node(n).engine.stop(),
    startEngine: (n) => cluster.node(n).engine.start(),
    cutOff: (n) => cluster.node(n).relay.cutOff(),
    reconnect: (n) => cluster.node(n).relay.restore(),
    async appContainers(appId, o = {}) {
      const out: Array<{ node: number; id: string; state: string; allocation: string }> = [];
      for (const node of nodes) {
        if (!node.engine.running) continue;
        const list = await node.engine.docker.listContainers({ all: o.all ?? false, filters: { label: [`karvon.app=${appId}`] } });
        for (const c of list) out.push({ node: node.index, id: c.Id, state: c.State, allocation: c.Labels['karvon.allocation'] ?? '' });
      }
      return out;
    },
    async nodeView(n) {
      const res = await admin.get<{ status: string; liveness: string; lastHeartbeatAt: string | null }>(`/api/v1/admin/nodes/${cluster.node(n).nodeId}`);
      if (res.status !== 200) throw new Error(`node ${n}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    agentLogs(lines = 30) {
      return nodes
        .map((node) => {
          const text = node.agent?.output() ?? '';
          return `--- agent ${node.index} (${node.nodeId}, ${node.addr}) ---\n${text.split('\n').slice(-lines).join('\n')}`;
        })
        .join('\n');
    },
    async stop() {
      for (const node of nodes) {
        const p = node.agent;
        if (p?.child.pid && node.paused) {
          try {
            process.kill(p.child.pid, 'SIGCONT');
          } catch {
            // gone
          }
        }
        p?.kill('SIGKILL');
      }
      await Promise.all(nodes.map((node) => node.agent?.exited ?? Promise.resolve()));
      for (const node of nodes) {
        if (node.engine.running) await removeEverything(node.engine.docker).catch((e: Error) => log(`cleanup of engine ${node.index}: ${e.message}`));
      }
      await Promise.all(nodes.map((node) => node.engine.stop(20_000)));
      await removeBridges();
      await Promise.all(nodes.map((node) => node.relay.close()));
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true }).catch((e: Error) => log(`rm ${dir}: ${e.message}`));
    },
  };

  function runAgent(node: TestNode): RunningProcess {
    return startProcess(agentBin.file, [...agentBin.args, 'run', '--state-dir', node.stateDir], {
      DOCKER_HOST: node.engine.dockerHost,
      KARVON_LOG_LEVEL: 'info',
      KARVON_ADVERTISE_ADDR: node.addr,
      KARVON_PORT_RANGE: `${node.portRange.min}-${node.portRange.max}`,
      KARVON_DRAIN_SECONDS: '0',
      KARVON_CHALLENGE_PORT: String(node.challengePort),
      ...opts.agentEnv,
    });
  }

  try {
    // Engines first (in parallel: each takes a few seconds), then the images into each.
    const engines = await Promise.all(Array.from({ length: opts.nodes }, (_, i) => createEngine(i, path.join(dir, `e${i}`))));
    await Promise.all(engines.map((e) => e.start()));
    const tar = path.join(dir, 'images.tar');
    let t = Date.now();
    await saveImages(opts.mainDockerHost, opts.images, tar);
    log(`saved ${opts.images.length} images in ${Date.now() - t} ms`);
    t = Date.now();
    for (const e of engines) await loadImages(e, tar);
    log(`loaded them into ${engines.length} engines in ${Date.now() - t} ms`);
    await rm(tar, { force: true });

    const token = async () => registrationToken(admin, opts.region);
    for (let i = 0; i < opts.nodes; i++) {
      const engine = engines[i]!;
      const relay = await startRelay({ host: cpUrl.hostname, port: Number(cpUrl.port) });
      const min = 21_000 + Math.floor(Math.random() * 78) * 100;
      const node: TestNode = {
        index: i,
        name: `mn${i}-${path.basename(dir).slice(-6)}`.replace(/[^A-Za-z0-9._-]/g, ''),
        nodeId: '',
        addr: `127.0.${octet}.${10 + i}`,
        portRange: { min, max: min + 99 },
        challengePort: await freePort(),
        engine,
        relay,
        stateDir: path.join(dir, `a${i}`),
        agent: undefined,
        paused: false,
        pastOutput: [],
      };
      nodes.push(node);
      const reg = startProcess(
        agentBin.file,
        [...agentBin.args, 'register', '--control-plane', `http://127.0.0.1:${relay.port}`, '--token', await token(), '--state-dir', node.stateDir, '--name', node.name],
        { DOCKER_HOST: engine.dockerHost },
      );
      const code = await reg.exited;
      if (code !== 0) throw new Error(`register node ${i}: ${code}\n${reg.output()}`);
      node.nodeId = (JSON.parse(await readFile(path.join(node.stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
    }
    await Promise.all(nodes.map((n) => cluster.restartAgent(n.index)));
    log(`cluster up: ${nodes.map((n) => `${n.nodeId}@${n.addr}`).join(', ')}`);
    return cluster;
  } catch (e) {
    await cluster.stop().catch(() => undefined);
    throw e;
  }
}

/** Every container and network on a test engine (the engine is ours alone). */
async function removeEverything(docker: Docker): Promise<void> {
  const containers = await docker.listContainers({ all: true });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = await docker.listNetworks();
  await Promise.all(
    networks.filter((n) => !['bridge', 'host', 'none'].includes(n.Name)).map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)),
  );
}

/** Lazily unmounts anything still mounted under `dir` (a dockerd killed hard leaves overlay and shm mounts). */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const points = mounts
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await execFile('umount', ['-l', p]).catch(() => undefined);
}
